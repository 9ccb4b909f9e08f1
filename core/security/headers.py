"""Content-Security-Policy and Permissions-Policy on every response.

Django's SecurityMiddleware already sends X-Content-Type-Options, Referrer-Policy and
Cross-Origin-Opener-Policy, and XFrameOptionsMiddleware X-Frame-Options; Django 5.2 has no CSP, so
these two headers are set here, from settings:

- `CONTENT_SECURITY_POLICY`: the policy for every page. The admin and the public disclosure pages
  load scripts only from this site; they do use inline `<style>` blocks, so styles allow
  'unsafe-inline' (a style cannot run code; scripts never may be inline).
- `CONTENT_SECURITY_POLICY_BY_PATH`: a looser policy for a path prefix, should a page ever need
  one. None does: the API docs (Swagger UI) load their files from this site and start from a
  script file of their own.
- `PERMISSIONS_POLICY`: browser features no page here uses, switched off.

A response that already carries a header (a view that set its own) keeps it.
"""

from django.conf import settings


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy_for(request.path))
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response

    @staticmethod
    def policy_for(path: str) -> str:
        for prefix, policy in settings.CONTENT_SECURITY_POLICY_BY_PATH.items():
            if path.startswith(prefix):
                return policy
        return settings.CONTENT_SECURITY_POLICY
