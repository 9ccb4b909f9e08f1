"""Payroll API keys in the admin, addressed by their public prefix, never by their hash.

A key's primary key is `<prefix>.<hash of the key>` (djangorestframework-api-key): a URL, a link
or a form value carrying it would put the hash in browser history, server logs and Referer
headers. The admin's pages of a key (change, history, one version, delete) take its prefix
instead, through a URL converter whose `to_url` turns a primary key into its prefix, so that every
link the admin builds names the prefix: the list, the change page's tools, the history, a
read-only field of another model that points at a key, "recent actions". The pop-up pages and the
autocomplete, which answer with primary keys, are not offered for keys (no form picks a key).
"""

from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import URLPattern, path, register_converter

CONVERTER = "payroll_key_prefix"


class KeyPrefixConverter:
    """A key's prefix in a URL; given a primary key (`prefix.hash`), writes only the prefix."""

    regex = "[0-9A-Za-z]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value).partition(".")[0]


register_converter(KeyPrefixConverter, CONVERTER)


class KeyByPrefixAdminMixin:
    actions = None  # no action checkboxes, whose values would be primary keys

    def get_urls(self):
        urls = []
        for pattern in super().get_urls():
            route = str(pattern.pattern)
            if isinstance(pattern, URLPattern) and (pattern.name or "").endswith("_simple_history"):
                route = f"<{CONVERTER}:object_id>/history/<str:version_id>/"
            elif "<path:object_id>" in route:
                route = route.replace("<path:object_id>", f"<{CONVERTER}:object_id>")
            else:
                urls.append(pattern)
                continue
            urls.append(path(route, pattern.callback, pattern.default_args, name=pattern.name))
        return urls

    def get_object(self, request, object_id, from_field=None):
        # By prefix; a primary key given by the admin's own code is reduced to its prefix.
        prefix = str(object_id).partition(".")[0]
        return self.get_queryset(request).filter(prefix=prefix).first() if prefix else None

    def _key_or_404(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        return obj

    def history_view(self, request, object_id, extra_context=None):
        obj = self._key_or_404(request, object_id)
        return super().history_view(request, quote(obj.pk), extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._key_or_404(request, object_id)
        return super().history_form_view(request, obj.pk, version_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        self._refuse_popup(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._refuse_popup(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request, queryset, search_term):
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "autocomplete":
            return queryset.none(), False  # its answer would name each key by primary key
        return super().get_search_results(request, queryset, search_term)

    @staticmethod
    def _refuse_popup(request):
        if IS_POPUP_VAR in request.GET or IS_POPUP_VAR in request.POST:
            raise PermissionDenied  # a pop-up answers its opener with the primary key
