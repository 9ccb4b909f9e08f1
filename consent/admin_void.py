"""Voiding one AI use from its page in the staff admin.

A use recorded by mistake (against the wrong consent, say) is voided with a reason: it stays in
the register, with who voided it, when and why, and counts in no decision, report section, run
or dashboard. Confirming calls `ai_use_void`; a refusal (no reason, already voided) is a form
error and writes nothing. Who may record the production's uses may void them.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from core.errors import DomainError
from ledger import access

from . import services
from .models import AiUse, AiUseVoid


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the use is voided, e.g. recorded against the wrong consent.",
        error_messages={"required": "Give the reason for the void."},
    )


def void_urls(model_admin) -> list:
    return [
        path(
            "<path:object_id>/void/",
            model_admin.admin_site.admin_view(
                lambda request, object_id: void_view(model_admin, request, object_id)
            ),
            name="consent_aiuse_void",
        ),
    ]


def void_of(use: AiUse) -> AiUseVoid | None:
    try:
        return use.void
    except AiUse.void.RelatedObjectDoesNotExist:
        return None


def void_link(request, use: AiUse) -> tuple[str, str] | None:
    """(label, url) of the use page's link here: "Void" while the use counts, "Void record"
    once voided; None for who may not void it."""
    if not access.request_scope(request).can_write_studio(use.production.studio_id):
        return None
    url = reverse("admin:consent_aiuse_void", args=[use.pk])
    return ("Void record", url) if void_of(use) else ("Void", url)


def void_view(model_admin, request, object_id):
    use = model_admin.get_object(request, object_id)
    if use is None:
        raise Http404
    if not access.request_scope(request).can_write_studio(use.production.studio_id):
        raise PermissionDenied
    void = void_of(use)
    form = None if void else VoidForm(request.POST or None)
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            services.ai_use_void(actor=request.user, use=use, reason=form.cleaned_data["reason"])
        except DomainError as error:
            for field, message in (error.fields or {}).items():
                if field in form.fields:
                    form.add_error(field, str(message))
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"AI use #{use.pk} is voided: it stays in the register and no longer counts.",
            )
            return redirect(reverse("admin:consent_aiuse_change", args=[use.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Void AI use #{use.pk}",
        "opts": model_admin.model._meta,
        "original": use,
        "use": use,
        "void": void,
        "form": form,
    }
    return TemplateResponse(request, "admin/consent/aiuse/void.html", context)
