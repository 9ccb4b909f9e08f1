"""Revoking one consent from its page in the staff admin.

A performer withdraws consent; the studio's staff record it, but first see what it takes away:
the recorded uses that rely on this consent, dated from the revocation on, which the consent
check would no longer allow. Confirming calls `consent_revoke`; the page then lists the same
uses with links, so each can be cancelled, re-consented or resolved. A refusal (already revoked,
superseded, dated before the signature) is a form error and writes nothing.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import URLPattern
from django.utils import timezone

from ledger import access

from . import selectors, services
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


class RevokeForm(forms.Form):
    reason = reason_field(
        help_text="Why the consent is withdrawn, as the performer or their representative said.",
        required_message="Give the reason for the revocation.",
    )
    at = forms.DateTimeField(
        label="Takes effect at",
        required=False,
        help_text="UTC, e.g. 2025-07-01 09:00. Empty: now. Uses dated earlier stay covered.",
        widget=forms.DateTimeInput(attrs={"placeholder": "2025-07-01 09:00"}),
    )

    def __init__(self, *args, previewing=False, **kwargs):
        super().__init__(*args, **kwargs)
        # Showing the affected uses for another date needs no reason yet.
        self.fields["reason"].required = not previewing


def revoke_urls(model_admin) -> list[URLPattern]:
    return event_urls(model_admin, "revoke", revoke_view)


def revoke_link(request, consent) -> Link | None:
    """The consent page's link here: "Revoke" while the consent can be revoked, "Revocation"
    once it is; None for who may not revoke it or a superseded one."""
    if not may_record(request, consent):
        return None
    url = event_url(consent, "revoke")
    events = list(consent.events.order_by("effective_at", "id"))
    revoked = selectors.revoked_at(events)
    if revoked is not None and revoked <= timezone.now():
        return ("Revocation", url, "revoke-link")
    if selectors.consent_status(consent, now=timezone.now(), events=events) == "superseded":
        return None
    return ("Revoke", url, "revoke-link")


def revoke_view(model_admin, request, object_id):
    consent = writable_object(model_admin, request, object_id)
    # A revocation dated ahead of now (recorded before event dates were bounded) leaves the
    # consent covering uses until then, so it can still be revoked from an earlier instant.
    revoked_at = selectors.revoked_at(list(consent.events.order_by("effective_at", "id")))
    if revoked_at is not None and revoked_at <= timezone.now():
        return _render(model_admin, request, consent, form=None, at=revoked_at)
    previewing = "_preview" in request.POST
    form = RevokeForm(request.POST or None, previewing=previewing)
    at = timezone.now()
    if request.method == "POST" and form.is_valid():
        at = form.cleaned_data["at"] or at
        if not previewing:
            done = _revoke(request, consent, form, at)
            if done is not None:
                return done
    elif request.method == "POST" and "at" not in form.errors:
        at = form.cleaned_data.get("at") or at
    return _render(model_admin, request, consent, form=form, at=at)


def _revoke(request, consent, form, at):
    if not record(form, services.consent_revoke, actor=request.user, consent=consent, at=at):
        return None
    uncovered = len(selectors.revocation_impact(consent, at=at))
    messages.success(
        request,
        f"Consent #{consent.pk} is revoked from {at:%Y-%m-%d %H:%M} UTC; "
        f"{uncovered} recorded use(s) dated from then on are no longer covered.",
    )
    return redirect(event_url(consent, "revoke"))


def _render(model_admin, request, consent, *, form, at):
    scope = access.request_scope(request)
    impact = selectors.revocation_impact(consent, at=at)
    visible = set(
        selectors.ai_uses(scope)
        .filter(pk__in=[i.use.pk for i in impact])
        .values_list("pk", flat=True)
    )
    return render(
        model_admin,
        request,
        consent,
        "admin/consent/consent/revoke.html",
        f"Revoke consent #{consent.pk}",
        consent=consent,
        form=form,
        at=at,
        revoked=form is None,
        impact=[i for i in impact if i.use.pk in visible],
    )
