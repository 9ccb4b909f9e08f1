"""One object's page in the staff admin that records an event on it with a reason: revoking a
consent (admin_revoke) and voiding an AI use (admin_void).

Both pages are reached from the object's page by a link (`Link`: label, address, element id),
open to who may write to the object's production's studio (ledger.access), call the service with
the reason given, and show a refusal as a form error that writes nothing. Their templates extend
`admin/tool_page.html` and share `admin/consent/form_fields.html`."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse

from core.admin.base import add_field_errors, admin_path
from core.errors import DomainError
from ledger import access

Link = tuple[str, str, str]  # (label, url, element id) of the object page's link here


def reason_field(*, help_text: str, required_message: str) -> forms.CharField:
    return forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
        error_messages={"required": required_message},
    )


def event_urls(model_admin: Any, action: str, view: Callable[..., Any]) -> list[URLPattern]:
    """`<object_id>/<action>/`, named `<app>_<model>_<action>`; view(model_admin, request, id)."""
    return [
        admin_path(
            model_admin,
            f"<path:object_id>/{action}/",
            lambda request, object_id: view(model_admin, request, object_id),
            action,
        )
    ]


def event_url(obj: Any, action: str) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[obj.pk])


def may_record(request: HttpRequest, obj: Any) -> bool:
    """Who may record the production's consents and uses may record their events."""
    return access.request_scope(request).can_write_studio(obj.production.studio_id)


def writable_object(model_admin: Any, request: HttpRequest, object_id: str) -> Any:
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        raise Http404
    if not may_record(request, obj):
        raise PermissionDenied
    return obj


def record(form: forms.Form, service: Callable[..., Any], **kwargs: Any) -> bool:
    """Calls the service with the form's reason; a refusal becomes the form's errors (False)."""
    try:
        service(reason=form.cleaned_data["reason"], **kwargs)
    except DomainError as error:
        add_field_errors(form, error)
        form.add_error(None, error.message)
        return False
    return True


def render(
    model_admin: Any, request: HttpRequest, obj: Any, template: str, title: str, **context: Any
) -> TemplateResponse:
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.model._meta,
            "original": obj,
            **context,
        },
    )
