"""The signing page of a consent request, for a person on a phone.

The link is the credential: no account or password. A link that was never valid, or is spent
(signed, declined, withdrawn), shows one and the same page with nothing of any request on it; an
expired link says so and offers to ask the studio for a new one. Every page is private (no cache,
no indexing) and a client asking too often is slowed down (`throttled`)."""

import hashlib
import logging
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from consent import requests
from consent.models import ConsentRequest
from core.errors import DomainError
from core.security.events import client_hash, security_event

from . import notices, wording

logger = logging.getLogger(__name__)

CAPACITY_WORDS = {
    "self": "you, for yourself",
    "representative": "you, as the representative of {person}",
}


# --- answers -----------------------------------------------------------------------------------


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = HttpResponse(render_to_string(template, context, request=request), status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return _page(request, "portal/gone.html", {}, status=404)


def _throttled(request: HttpRequest) -> bool:
    """More than PORTAL_RATE_LIMIT requests a minute from one address."""
    key = f"portal:rate:{client_hash(request)}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count > settings.PORTAL_RATE_LIMIT


def _slow_down(request: HttpRequest) -> HttpResponse:
    response = _page(request, "portal/throttled.html", {}, status=429)
    response["Retry-After"] = "60"
    return response


# --- the signing page --------------------------------------------------------------------------


class SignForm(forms.Form):
    name = forms.CharField(max_length=requests.NAME_MAX_LENGTH, required=False)
    confirmed = forms.BooleanField(required=False)
    initials_use = forms.CharField(max_length=10, required=False)
    initials_term = forms.CharField(max_length=10, required=False)
    initials_pay = forms.CharField(max_length=10, required=False)


class DeclineForm(forms.Form):
    reason = forms.CharField(max_length=requests.REASON_MAX_LENGTH, required=False)


def _facts(request: ConsentRequest) -> dict[str, Any]:
    """What the page shows, and the signed document keeps."""
    capacity = CAPACITY_WORDS.get(request.signer_capacity, request.signer_capacity)
    return {
        "request": request,
        "studio": request.production.studio.name,
        "production": request.production.title,
        "person": request.person.name,
        "kind_words": wording.kind_words(request.kind),
        "term_words": wording.term_words(request),
        "pay": wording.pay(request),
        "clock": requests.notice_clock(request),
        "capacity_words": capacity.format(person=request.person.name),
        "needs_initials": requests.needs_initials(request.represented_by),
        "clauses": requests.INITIALLED_CLAUSES,
        "revoke_to": request.production.studio.name,
    }


def _shown(request: ConsentRequest, facts: dict[str, Any]) -> dict[str, Any]:
    """The canonical record of what the page showed, kept with the signature."""
    return {
        **requests.shown_facts(request),
        "kind_words": facts["kind_words"],
        "term_words": facts["term_words"],
        "pay": {
            "amount": facts["pay"].amount,
            "rules": [rule.id for rule in facts["pay"].rules],
        },
        "scan_from": facts["clock"].scan_from.isoformat(),
    }


def _document(facts: dict[str, Any], signature: requests.Signature, at) -> bytes:
    """The PDF of exactly what was shown, with the signature as given."""
    from weasyprint import HTML  # imported here: loading Pango costs a second

    html = render_to_string(
        "portal/document.html", {**facts, "signature": signature, "signed_at": at}
    )
    return HTML(string=html).write_pdf()


@never_cache
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, token: str) -> HttpResponse:
    if _throttled(request):
        return _slow_down(request)
    opened = requests.open_link(token)
    if opened is None:
        security_event(
            "consent_request.link",
            actor=request,
            object="consent_request:unknown",
            outcome="denied",
        )
        return _gone(request)
    consent_request = opened.request
    if opened.expired:
        return _page(request, "portal/expired.html", {"token": token}, status=410)
    facts = _facts(consent_request)
    if request.method == "POST":
        if request.POST.get("answer") == "decline":
            return _decline(request, token, consent_request, facts)
        return _sign(request, token, consent_request, facts)
    return _page(request, "portal/sign.html", {**facts, "token": token, "form": SignForm()})


def _sign(request, token, consent_request, facts) -> HttpResponse:
    form = SignForm(request.POST)
    form.is_valid()  # every field optional: check_signature says what is missing, in words
    data = form.cleaned_data
    signature = requests.Signature(
        name=data.get("name") or "",
        confirmed=bool(data.get("confirmed")),
        initials={c: data.get(f"initials_{c}") or "" for c in requests.INITIALLED_CLAUSES},
        client_digest=_client_digest(request),
    )
    try:
        requests.check_signature(consent_request, signature)
        now = timezone.now()
        consent = requests.request_sign(
            token=token,
            signature=signature,
            document=_document(facts, signature, now),
            shown=_shown(consent_request, facts),
        )
    except DomainError as error:
        errors = error.fields or {"form": error.message}
        context = {**facts, "token": token, "form": form, "errors": errors, "error": error}
        return _page(request, "portal/sign.html", context, status=400)
    receipt_sent = notices.signed(consent)
    return _page(
        request,
        "portal/answered.html",
        {**facts, "signed": True, "consent": consent, "receipt_sent": receipt_sent},
    )


def _decline(request, token, consent_request, facts) -> HttpResponse:
    form = DeclineForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        declined = requests.request_decline(token=token, reason=reason)
    except DomainError as error:
        context = {**facts, "token": token, "form": SignForm(), "error": error}
        return _page(request, "portal/sign.html", context, status=400)
    notices.declined(declined)
    return _page(request, "portal/answered.html", {**facts, "signed": False})


def _client_digest(request: HttpRequest) -> str:
    """A keyed digest of the network address and the user agent: attribution without keeping
    either."""
    agent = request.META.get("HTTP_USER_AGENT", "")[:500]
    return hashlib.sha256(f"{client_hash(request)}\n{agent}".encode()).hexdigest()


@never_cache
@require_POST
def ask_new_link(request: HttpRequest, token: str) -> HttpResponse:
    """From an expired link: the studio's staff are told the person asks for a new one."""
    if _throttled(request):
        return _slow_down(request)
    opened = requests.open_link(token)
    if opened is None or not opened.expired:
        return _gone(request)
    notices.new_link_asked(opened.request)
    return _page(
        request, "portal/new_link_asked.html", {"studio": opened.request.production.studio.name}
    )
