"""The public pages of a published AI disclosure label: no login, found only by the label's
unguessable public id. A label that does not exist and one the studio has not published (or has
withdrawn) look the same: not found; so does every label while DISCLOSURE_LABELS_PUBLISHED is off.

Every answer may be cached by anyone, but only after asking again (`no-cache`): a withdrawn label
must stop being served at once. The signed PDF and PNG carry an ETag, the hash of what they are
made from, so an unchanged file is answered `304 Not Modified`."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from core.errors import error_body

from . import credentials, label
from .models import DisclosureLabel

NOT_FOUND = "No published AI disclosure label at this address."


def _published(public_id) -> DisclosureLabel | None:
    if not settings.DISCLOSURE_LABELS_PUBLISHED:
        return None
    return (
        DisclosureLabel.objects.select_related("production__studio")
        .filter(public_id=public_id, published=True)
        .first()
    )


def _public(response: HttpResponseBase) -> HttpResponseBase:
    patch_cache_control(response, public=True, no_cache=True)
    return response


@require_safe
def label_page(request, public_id):
    found = _published(public_id)
    if found is None:
        raise Http404(NOT_FOUND)
    files = {
        ext: reverse(f"disclosure-label-{ext}", kwargs={"public_id": found.public_id})
        for ext in credentials.MIME
    }
    return _public(HttpResponse(label.html(label.content(found.production), files=files)))


@require_safe
def label_json(request, public_id):
    found = _published(public_id)
    if found is None:
        return JsonResponse(error_body("not_found", NOT_FOUND), status=404)
    return _public(
        JsonResponse(label.content(found.production), json_dumps_params={"ensure_ascii": False})
    )


def _signed(request, public_id, extension: str) -> HttpResponseBase:
    found = _published(public_id)
    if found is None:
        raise Http404(NOT_FOUND)
    digest = credentials.fingerprint(found)
    etag = f'"{digest}"'
    unchanged = get_conditional_response(request, etag=etag)
    if unchanged is not None:
        return _public(unchanged)
    response = HttpResponse(
        credentials.signed_file(found, extension, digest=digest),
        content_type=credentials.MIME[extension],
    )
    response["Content-Disposition"] = (
        f'inline; filename="{credentials.file_name(found, extension)}"'
    )
    response["ETag"] = etag
    return _public(response)


@require_safe
def label_pdf(request, public_id):
    return _signed(request, public_id, "pdf")


@require_safe
def label_png(request, public_id):
    return _signed(request, public_id, "png")
