"""Consent requests: a consent prepared by studio staff, checked before it is sent, sent to whoever
signs for the person with a link of its own, and signed (or declined) on the signing page.

- Preparing runs the full check (union rules and state law, consent_review) on the consent as it
  would be signed now, and refuses with `consent_request_invalid`, naming each failing rule, a
  draft that would produce an invalid consent.
- Sending e-mails a link to the recorded address of whoever signs: the person, or for a deceased
  performer or a minor their representative (`Person.representative_email`). The link's secret
  is random, shown only in that message and stored only as its SHA-256. It expires after
  CONSENT_REQUEST_LINK_DAYS; a reminder sends a new link and the old one stops working. The first
  sending is the notice instant (sag.consent.notice_48h).
- Signing records the consent with consent_grant (instrument: a separate writing, signed by the
  typed name in the request's capacity, the notice instant the sending) and a ConsentSignature:
  the document shown, its canonical JSON and SHA-256, the instants and a digest of the signer's
  address and browser. The link is then spent; declining, withdrawal and expiry spend it too.

Each use case is one transaction; a mail server that fails leaves nothing recorded.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import BadHeaderError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from core import mail
from core.audit import save_audited, system_user
from core.errors import Conflict, DomainError, NotFound
from ledger.access import Scope
from ledger.models import Person, Production

from . import services
from .models import REQUEST_FIELDS, Consent, ConsentRequest, ConsentSignature, Representation
from .rules.parameters import RuleParameters

Status = ConsentRequest.Status
# A link opens the signing page while the request waits for an answer.
OPEN = (Status.SENT, Status.VIEWED)
# Clauses the signer initials one by one on the counsel route of state law (law.ca.lab927,
# law.ny.gol5_302: terms clear, conspicuous and signed or initialed).
INITIALLED_CLAUSES = ("use", "term", "pay")
NAME_MAX_LENGTH = 200
REASON_MAX_LENGTH = 2000


def _now() -> datetime:
    return timezone.now()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- who signs ---------------------------------------------------------------------------------


def signer_of(person: Person, category: str) -> tuple[str, str, str]:
    """(capacity, name, recorded address) of whoever signs for `person`: a deceased performer's
    authorized representative and a minor's parent or guardian sign as `representative`, at the
    representative's address; anyone else signs for themselves at their own."""
    if person.is_deceased or category == "minor":
        who = person.authorized_representative or "the parent or guardian"
        return "representative", who, person.representative_email
    return "self", person.name, person.email


def _address(request: ConsentRequest) -> str:
    _, _, address = signer_of(request.person, request.category)
    if not address:
        whose = "their representative's " if request.signer_capacity == "representative" else ""
        raise DomainError(
            f"{request.person} has no {whose}e-mail address on record; record it on the person "
            "first.",
            code="no_email",
            fields={"person": "No recorded address to send the request to."},
        )
    return address


# --- the check ---------------------------------------------------------------------------------


def needs_initials(represented_by: str) -> bool:
    """The counsel route of state law asks the terms to be initialed: the signing page then asks
    the signer to initial each clause."""
    return represented_by == Representation.COUNSEL


def _draft(request: ConsentRequest, *, at: datetime, notice_at: datetime) -> dict[str, Any]:
    """The consent the request would record if signed at `at`, as consent_review takes it."""
    fields = {name: getattr(request, name) for name in REQUEST_FIELDS}
    _, name, _ = signer_of(request.person, request.category)
    return {
        **fields,
        "instrument": "separate_writing",
        "signed_at": at,
        "signed_by": name,
        "signed_by_capacity": request.signer_capacity,
        "notice_at": notice_at,
        "terms_initialed": needs_initials(request.represented_by),
    }


def review(request: ConsentRequest, *, at: datetime | None = None) -> services.ConsentReview:
    """consent_review of the consent the request would record if signed at `at` (default now),
    the notice given when it was sent (or now, for a draft)."""
    at = at or _now()
    return services.consent_review(**_draft(request, at=at, notice_at=request.sent_at or at))


def _refuse_invalid(outcome: services.ConsentReview) -> None:
    failing = [f for f in outcome.review.findings if not f.passed]
    if failing:
        raise DomainError(
            "This request would produce a consent that does not hold: "
            + "; ".join(f"{f.rule}: {f.message}" for f in failing),
            code="consent_request_invalid",
            fields={f.rule: f.message for f in failing},
        )


@dataclass(frozen=True)
class NoticeClock:
    """sag.consent.notice_48h as it stands for a request: the notice instant (when it was sent,
    or now for a draft) and the earliest instant a scan may take place."""

    notice_at: datetime
    scan_from: datetime
    hours: int
    given: bool  # the notice instant is recorded (sent), not assumed


def notice_clock(request: ConsentRequest, *, now: datetime | None = None) -> NoticeClock:
    notice_at = request.sent_at or now or _now()
    before = RuleParameters.as_of(request.term_from).notice_before_scan
    return NoticeClock(
        notice_at=notice_at,
        scan_from=notice_at + before,
        hours=int(before.total_seconds() // 3600),
        given=request.sent_at is not None,
    )


# --- where a request stands --------------------------------------------------------------------


def link_expired(request: ConsentRequest, now: datetime | None = None) -> bool:
    """Whether the request's link has expired (whether or not the expiry is recorded yet)."""
    return request.expires_at is not None and request.expires_at <= (now or _now())


def with_effective_status(
    qs: "QuerySet[ConsentRequest]", status: str, now: datetime | None = None
) -> "QuerySet[ConsentRequest]":
    """The requests of `qs` whose effective_status is `status`."""
    lapsed = Q(status__in=OPEN, expires_at__lte=now or _now())
    if status == Status.EXPIRED:
        return qs.filter(Q(status=Status.EXPIRED) | lapsed)
    if status in OPEN:
        return qs.filter(status=status).exclude(lapsed)
    return qs.filter(status=status)


def effective_status(request: ConsentRequest, now: datetime | None = None) -> str:
    """The status as the signer would find it: a link past its expiry is `expired` before the
    beat task records it."""
    if request.status in OPEN and link_expired(request, now):
        return Status.EXPIRED
    return request.status


# --- staff's use cases -------------------------------------------------------------------------


def _check_writable(scope: Scope, production: Production) -> None:
    if not scope.can_write_studio(production.studio_id):
        raise NotFound("No such production.")


def request_draft(
    *,
    actor: Any,
    person: Person,
    production: Production,
    kind: str,
    category: str | None = None,
    agreement: Any = None,
    **fields: Any,
) -> ConsentRequest:
    """The request, unsaved and validated: its category and agreement as a consent's would be
    derived, and who signs it. Refuses what the model refuses (ValidationError)."""
    category, agreement = services.category_and_agreement(
        person, production, category, agreement, None
    )
    capacity, _, _ = signer_of(person, category)
    request = ConsentRequest(
        person=person,
        production=production,
        kind=kind,
        category=category,
        agreement=agreement,
        signer_capacity=capacity,
        created_by=actor,
        **fields,
    )
    request.full_clean(exclude=["created_by"])
    return request


@transaction.atomic
def request_prepare(*, actor: Any, scope: Scope, production: Production, **fields: Any):
    """A draft request, refused (`consent_request_invalid`, each failing rule named) when the
    consent it would produce, signed now, fails the full check."""
    _check_writable(scope, production)
    request = request_draft(actor=actor, production=production, **fields)
    _refuse_invalid(review(request))
    return save_audited(request, actor=actor)


def _lock(request: ConsentRequest) -> ConsentRequest:
    return (
        ConsentRequest.objects.select_for_update()
        .select_related("person", "production")
        .get(pk=request.pk)
    )


def _link(token: str) -> str:
    return settings.SITE_URL + reverse("consent-request-sign", args=[token])


def _send_link(request: ConsentRequest, *, reminder: bool, now: datetime) -> None:
    """A new link for the request, e-mailed to its signer's recorded address; raises (and the
    caller's transaction rolls back) when the mail server fails. The link is also left on the
    returned instance (`sent_link`, never stored) for the demo to print."""
    to = _address(request)
    token = secrets.token_urlsafe(32)
    request.token_hash = token_hash(token)
    request.expires_at = now + timedelta(days=settings.CONSENT_REQUEST_LINK_DAYS)
    request.sent_to = to
    message = mail.message(
        subject=("Reminder: " if reminder else "")
        + f"{request.production.studio.name} asks for your consent: {request.production.title}",
        body=_message_text(request, _link(token)),
        to=[to],
    )
    request.sent_link = _link(token)  # type: ignore[attr-defined]
    try:
        message.send()
    except (OSError, BadHeaderError):
        raise DomainError(
            "The mail server could not send the request; nothing was recorded. Try again later.",
            code="mail_unavailable",
            status_code=503,
        ) from None


def _message_text(request: ConsentRequest, link: str) -> str:
    studio = request.production.studio.name
    whom = (
        f"on behalf of {request.person.name} "
        if request.signer_capacity == "representative"
        else ""
    )
    return (
        f"{studio} asks for your consent {whom}to a use of AI in {request.production.title}: "
        f"{request.get_kind_display()}.\n\n"
        "Read exactly what is asked, then sign or decline, here:\n"
        f"{link}\n\n"
        f"The link is yours alone and works until {request.expires_at:%d %B %Y, %H:%M} UTC. "
        "You may refuse; nothing is used until you sign, and you can revoke a consent later.\n"
    )


@transaction.atomic
def request_send(*, actor: Any, scope: Scope, request: ConsentRequest) -> ConsentRequest:
    """Send a draft: a link by e-mail and the notice instant recorded. The check runs again as
    it would be signed now."""
    request = _lock(request)
    _check_writable(scope, request.production)
    if request.status != Status.DRAFT:
        raise Conflict(
            f"This request was already {request.status}; send a reminder instead.",
            code="consent_request_not_draft",
        )
    now = _now()
    _refuse_invalid(review(request, at=now))
    _send_link(request, reminder=False, now=now)
    request.status = Status.SENT
    request.sent_at = now
    return save_audited(request, actor=actor)


@transaction.atomic
def request_remind(*, actor: Any, scope: Scope, request: ConsentRequest) -> ConsentRequest:
    """Send a new link to a request not yet answered (an expired one too: it opens again); the
    previous link stops working."""
    request = _lock(request)
    _check_writable(scope, request.production)
    if request.status not in (*OPEN, Status.EXPIRED):
        raise Conflict(
            f"A {request.status} request gets no reminder.", code="consent_request_closed"
        )
    now = _now()
    _send_link(request, reminder=True, now=now)
    if request.status == Status.EXPIRED:
        request.status = Status.SENT
        request.answered_at = None
    request.reminded_at = now
    return save_audited(request, actor=actor)


@transaction.atomic
def request_withdraw(*, actor: Any, scope: Scope, request: ConsentRequest) -> ConsentRequest:
    """Withdraw a request not signed or declined: its link stops working."""
    request = _lock(request)
    _check_writable(scope, request.production)
    if request.status in (Status.SIGNED, Status.DECLINED, Status.WITHDRAWN):
        raise Conflict(
            f"A {request.status} request cannot be withdrawn.", code="consent_request_closed"
        )
    return _close(request, Status.WITHDRAWN, actor=actor)


def _close(request: ConsentRequest, status: str, *, actor: Any, **fields: Any) -> ConsentRequest:
    request.status = status
    request.token_hash = None
    request.answered_at = _now()
    for name, value in fields.items():
        setattr(request, name, value)
    return save_audited(request, actor=actor)


def expire_due(*, actor: Any, now: datetime | None = None) -> list[ConsentRequest]:
    """Record as expired every request whose link has expired unanswered (the beat task); the
    link keeps its hash so that it can still say it expired. Returns those expired now."""
    now = now or _now()
    expired = []
    due = ConsentRequest.objects.filter(status__in=OPEN, expires_at__lte=now)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            request = _lock(ConsentRequest(pk=pk))
            if request.status in OPEN and link_expired(request, now):
                request.status = Status.EXPIRED
                request.answered_at = now
                expired.append(save_audited(request, actor=actor))
    return expired


# --- the signer's use cases --------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """What a link opens: the request it belongs to, or that it has expired (nothing of the
    request is shown then)."""

    request: ConsentRequest
    expired: bool


def open_link(token: str, *, now: datetime | None = None) -> Opened | None:
    """The request a link belongs to, if the link was ever valid and is not spent (signed,
    declined or withdrawn) — None otherwise, forged links included. The first opening records
    the viewing instant."""
    now = now or _now()
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    with transaction.atomic():
        request = (
            ConsentRequest.objects.select_for_update()
            .select_related("person", "production__studio", "agreement")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if request is None:
            return None
        if request.status == Status.EXPIRED or link_expired(request, now):
            return Opened(request, expired=True)
        if request.status == Status.SENT:
            request.status = Status.VIEWED
            request.viewed_at = now
            save_audited(request, actor=_signing_actor())
        return Opened(request, expired=False)


def _signing_actor():
    """The signer has no account: what they sign is recorded by the named system user, with
    their typed name and the signature's record."""
    return system_user()


def _open_for_answer(token: str, now: datetime) -> ConsentRequest:
    request = (
        ConsentRequest.objects.select_for_update()
        .select_related("person", "production__studio", "agreement")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if request is None or request.status not in OPEN:
        raise NotFound("This link is not valid.")
    if link_expired(request, now):
        raise DomainError("This link has expired.", code="link_expired", status_code=410)
    return request


@dataclass(frozen=True)
class Signature:
    """What the signer gives on the signing page."""

    name: str
    confirmed: bool
    initials: dict[str, str]
    client_digest: str


def check_signature(request: ConsentRequest, signature: Signature) -> None:
    """Refuse (DomainError naming the field) a signature that is not one: a typed full name,
    the explicit confirmation, and the initials of each clause where they are asked for."""
    errors = {}
    if not signature.name.strip() or len(signature.name) > NAME_MAX_LENGTH:
        errors["name"] = "Type your full name to sign."
    if not signature.confirmed:
        errors["confirmed"] = "Confirm that you have read and agree to what is asked."
    if needs_initials(request.represented_by):
        for clause in INITIALLED_CLAUSES:
            value = signature.initials.get(clause, "").strip()
            if not value or len(value) > 10:
                errors[f"initials_{clause}"] = "Initial this clause."
    if errors:
        raise DomainError("The signature is not complete.", code="invalid", fields=errors)


@transaction.atomic
def request_sign(
    *, token: str, signature: Signature, document: bytes, shown: dict[str, Any]
) -> Consent:
    """Sign: the consent recorded with `document` (the PDF of exactly what was shown) as its
    evidence, and the signature's record with `shown` as canonical JSON. The check runs again at
    the signing instant; a consent that would not hold is refused and nothing is recorded."""
    now = _now()
    request = _open_for_answer(token, now)
    check_signature(request, signature)
    _refuse_invalid(review(request, at=now))
    actor = _signing_actor()
    fields = {name: getattr(request, name) for name in REQUEST_FIELDS}
    consent = services.consent_grant(
        actor=actor,
        evidence=ContentFile(document, name=f"consent-request-{request.pk}.pdf"),
        instrument="separate_writing",
        signed_at=now,
        signed_by=signature.name.strip(),
        signed_by_capacity=request.signer_capacity,
        notice_at=request.sent_at,
        terms_initialed=needs_initials(request.represented_by),
        **fields,
    )
    text = canonical_json(shown)
    assert request.sent_at is not None  # a request open for an answer was sent
    ConsentSignature.objects.create(
        request=request,
        consent=consent,
        signed_name=signature.name.strip(),
        capacity=request.signer_capacity,
        initials={k: v.strip() for k, v in signature.initials.items() if v.strip()},
        shown_json=text,
        shown_sha256=hashlib.sha256(text.encode()).hexdigest(),
        sent_at=request.sent_at,
        viewed_at=request.viewed_at or now,
        signed_at=now,
        client_digest=signature.client_digest,
    )
    _close(request, Status.SIGNED, actor=actor, consent=consent)
    return consent


@transaction.atomic
def request_decline(*, token: str, reason: str) -> ConsentRequest:
    """Decline, with an optional reason: nothing is recorded as consented, the link is spent."""
    request = _open_for_answer(token, _now())
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(
            f"A reason is at most {REASON_MAX_LENGTH} characters.",
            fields={"reason": "Too long."},
        )
    return _close(request, Status.DECLINED, actor=_signing_actor(), decline_reason=reason.strip())


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8: the same bytes for the same content."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def shown_facts(request: ConsentRequest, *, today: date | None = None) -> dict[str, Any]:
    """The request as the signing page shows it and the evidence keeps it."""
    return {
        "request": request.pk,
        "person": request.person.name,
        "studio": request.production.studio.name,
        "production": request.production.title,
        "agreement": request.agreement.code,
        "category": request.category,
        "kind": request.kind,
        "description": request.description,
        "scenes": request.scenes,
        "media": request.media,
        "territory": request.territory,
        "term_from": request.term_from.isoformat(),
        "term_to": request.term_to.isoformat() if request.term_to else None,
        "business_reason": request.business_reason,
        "governing_law": request.governing_law,
        "bargained_amount": (
            None if request.bargained_amount is None else str(request.bargained_amount)
        ),
        "bargained_currency": request.bargained_currency,
        "signer_capacity": request.signer_capacity,
        "sent_at": request.sent_at.isoformat() if request.sent_at else None,
    }
