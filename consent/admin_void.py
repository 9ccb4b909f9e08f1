"""Voiding one AI use from its page in the staff admin.

A use recorded by mistake (against the wrong consent, say) is voided with a reason: it stays in
the register, with who voided it, when and why, and counts in no decision, report section, run
or dashboard. Confirming calls `ai_use_void`; a refusal (no reason, already voided) is a form
error and writes nothing. Who may record the production's uses may void them.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import URLPattern, reverse

from . import services
from .admin_event import (
    Link,
    event_url,
    event_urls,
    may_record,
    reason_field,
    record,
    render,
    writable_object,
)
from .models import AiUse, AiUseVoid


class VoidForm(forms.Form):
    reason = reason_field(
        help_text="Why the use is voided, e.g. recorded against the wrong consent.",
        required_message="Give the reason for the void.",
    )


def void_urls(model_admin) -> list[URLPattern]:
    return event_urls(model_admin, "void", void_view)


def void_of(use: AiUse) -> AiUseVoid | None:
    try:
        return use.void
    except AiUse.void.RelatedObjectDoesNotExist:
        return None


def void_link(request, use: AiUse) -> Link | None:
    """The use page's link here: "Void" while the use counts, "Void record" once voided; None
    for who may not void it."""
    if not may_record(request, use):
        return None
    return ("Void record" if void_of(use) else "Void", event_url(use, "void"), "void-link")


def void_view(model_admin, request, object_id):
    use = writable_object(model_admin, request, object_id)
    void = void_of(use)
    form = None if void else VoidForm(request.POST or None)
    if form is not None and request.method == "POST" and form.is_valid():
        if record(form, services.ai_use_void, actor=request.user, use=use):
            messages.success(
                request,
                f"AI use #{use.pk} is voided: it stays in the register and no longer counts.",
            )
            return redirect(reverse("admin:consent_aiuse_change", args=[use.pk]))
    title = f"Void AI use #{use.pk}"
    return render(
        model_admin,
        request,
        use,
        "admin/consent/aiuse/void.html",
        title,
        use=use,
        void=void,
        form=form,
    )
