"""Use cases that write consent records. Each is atomic, validates before it writes, locks what it
changes and records the acting user."""

from datetime import datetime

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from ledger.errors import Conflict, DomainError
from ledger.models import Agreement, Person, Production, ProductionAgreement

from . import rules, selectors
from .evidence import evidence_digest
from .models import (
    USE_FLAGS,
    AiUse,
    Consent,
    ConsentEvent,
    StrikePeriod,
    UnionNotice,
    WgaDisclosure,
)


def _save(obj, *, actor):
    obj.full_clean()
    obj._history_user = actor
    obj.save()
    return obj


def _agreement_for(production: Production, category: str, day) -> Agreement:
    """The attached agreement of the category's guild in force on `day`, else the attached one of
    that guild (a consent may be signed before its agreement's term)."""
    guild = rules.CATEGORY_GUILD[category]
    attached = [
        pa.agreement
        for pa in ProductionAgreement.objects.filter(
            production=production, agreement__guild__code=guild
        ).select_related("agreement")
    ]
    in_force = [a for a in attached if a.in_force_on(day)]
    if in_force or attached:
        return (in_force or attached)[0]
    raise DomainError(
        f"No {guild} agreement is attached to {production}.",
        code="agreement_not_attached",
        fields={"production": f"Attach a {guild} agreement first."},
    )


def _category_for(person: Person, production: Production) -> str:
    engagement = person.engagements.filter(production=production).order_by("created_at").first()
    if engagement is None:
        raise DomainError(
            "The person is not engaged on this production; give the category.",
            fields={"category": "Required when the person has no engagement here."},
        )
    return selectors.CLASSIFICATION_CATEGORY[engagement.classification]


@transaction.atomic
def consent_grant(
    *,
    actor,
    person: Person,
    production: Production,
    kind: str,
    evidence: File,
    category: str | None = None,
    agreement: Agreement | None = None,
    supersedes: Consent | None = None,
    **fields,
) -> Consent:
    """Record a signed consent with its evidence. `supersedes` names the consent of the same
    person and kind whose scope this one replaces; the old one then covers nothing."""
    if supersedes is not None:
        supersedes = Consent.objects.select_for_update().get(pk=supersedes.pk)
        _check_supersedable(supersedes, person=person, kind=kind)
    category = category or _category_for(person, production)
    signed_at = fields.get("signed_at")
    if agreement is None:
        day = signed_at.date() if signed_at else timezone.now().date()
        agreement = _agreement_for(production, category, day)
    elif not ProductionAgreement.objects.filter(
        production=production, agreement=agreement
    ).exists():
        raise DomainError(
            f"{agreement.code} is not attached to {production}.",
            code="agreement_not_attached",
            fields={"agreement": "Not attached to the production."},
        )
    if rules.CATEGORY_GUILD[category] != agreement.guild.code:
        raise DomainError(
            f"A {category} does not consent under {agreement.code}.",
            fields={"category": f"Not a {agreement.guild.code} category."},
        )
    sha256, size = evidence_digest(evidence)
    if size == 0:
        raise DomainError("The evidence document is empty.", fields={"evidence": "Empty file."})
    if size > settings.EVIDENCE_MAX_BYTES:
        raise DomainError(
            f"The evidence document is larger than {settings.EVIDENCE_MAX_BYTES} bytes.",
            code="evidence_too_large",
            fields={"evidence": "Too large."},
        )
    name = (getattr(evidence, "name", "") or "evidence").rsplit("/", 1)[-1][-150:] or "evidence"
    consent = Consent(
        person=person,
        production=production,
        agreement=agreement,
        category=category,
        kind=kind,
        supersedes=supersedes,
        evidence_name=name,
        evidence_sha256=sha256,
        evidence_size=size,
        recorded_by=actor,
        **fields,
    )
    consent.evidence.save(name, evidence, save=False)
    try:
        return _save(consent, actor=actor)
    except Exception:
        consent.evidence.delete(save=False)
        raise


def _check_supersedable(old: Consent, *, person: Person, kind: str):
    if old.person_id != person.pk or old.kind != kind:
        raise DomainError(
            "A consent supersedes only an earlier consent of the same person and kind.",
            fields={"supersedes": "Different person or kind."},
        )
    if Consent.objects.filter(supersedes=old).exists():
        raise Conflict(
            f"Consent {old.pk} is already superseded.",
            code="already_superseded",
            fields={"supersedes": "Already superseded."},
        )
    if selectors.revoked_at(list(old.events.all())) is not None:
        raise Conflict(
            f"Consent {old.pk} is revoked; grant a new consent instead of superseding it.",
            code="consent_revoked",
            fields={"supersedes": "Revoked."},
        )


def _lock_for_event(consent: Consent, at: datetime) -> tuple[Consent, list[ConsentEvent]]:
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    events = list(consent.events.order_by("effective_at", "id"))
    if Consent.objects.filter(supersedes=consent).exists():
        raise Conflict(
            "This consent is superseded and covers nothing; act on its successor.",
            code="consent_superseded",
        )
    if selectors.revoked_at(events) is not None:
        raise Conflict("This consent is already revoked.", code="consent_revoked")
    if at < consent.signed_at:
        raise DomainError(
            "The event cannot take effect before the consent was signed.",
            fields={"at": "Before the signature."},
        )
    if events and at < events[-1].effective_at:
        raise DomainError(
            "The event cannot take effect before the consent's last event.",
            fields={"at": f"Before {events[-1].effective_at.isoformat()}."},
        )
    return consent, events


def _event(consent, kind, *, actor, at, reason) -> ConsentEvent:
    return _save(
        ConsentEvent(consent=consent, kind=kind, effective_at=at, reason=reason, actor=actor),
        actor=actor,
    )


@transaction.atomic
def consent_revoke(*, actor, consent: Consent, reason: str, at: datetime | None = None):
    """consent.revoked: the consent covers no use dated at or after `at`; earlier uses stay
    covered. Revocation is final."""
    at = at or timezone.now()
    consent, _ = _lock_for_event(consent, at)
    return _event(consent, ConsentEvent.Kind.REVOKED, actor=actor, at=at, reason=reason)


@transaction.atomic
def consent_suspend(*, actor, consent: Consent, reason: str, at: datetime | None = None):
    """Suspend the consent from `at` until it is resumed; suspending twice changes nothing."""
    at = at or timezone.now()
    consent, events = _lock_for_event(consent, at)
    if _open_suspension(events):
        return events[-1]
    return _event(consent, ConsentEvent.Kind.SUSPENDED, actor=actor, at=at, reason=reason)


@transaction.atomic
def consent_resume(*, actor, consent: Consent, reason: str, at: datetime | None = None):
    at = at or timezone.now()
    consent, events = _lock_for_event(consent, at)
    if not _open_suspension(events):
        raise Conflict("This consent is not suspended.", code="consent_not_suspended")
    return _event(consent, ConsentEvent.Kind.RESUMED, actor=actor, at=at, reason=reason)


def _open_suspension(events) -> bool:
    periods = selectors.suspensions(events)
    return bool(periods) and periods[-1][1] is None


@transaction.atomic
def union_notice_record(*, actor, **fields) -> UnionNotice:
    return _save(UnionNotice(recorded_by=actor, **fields), actor=actor)


@transaction.atomic
def strike_period_record(*, actor, **fields) -> StrikePeriod:
    return _save(StrikePeriod(recorded_by=actor, **fields), actor=actor)


@transaction.atomic
def strike_period_update(*, actor, strike: StrikePeriod, **fields) -> StrikePeriod:
    """Correct a strike's dates or description (typically: set its end when it ends)."""
    strike = StrikePeriod.objects.select_for_update().get(pk=strike.pk)
    for name, value in fields.items():
        setattr(strike, name, value)
    return _save(strike, actor=actor)


@transaction.atomic
def wga_disclosure_record(*, actor, **fields) -> WgaDisclosure:
    return _save(WgaDisclosure(recorded_by=actor, **fields), actor=actor)


@transaction.atomic
def ai_use_record(
    *,
    actor,
    scope,
    production: Production,
    person: Person | None,
    kind: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    alteration_exception: str = "",
    **fields,
) -> AiUse:
    """Record a use in the production's register with the consent decision made now. A use that
    no consent covers is recorded as a `violation`, never refused: the register is evidence."""
    flags = {flag: fields.pop(flag, False) for flag in USE_FLAGS}
    request = selectors.CheckRequest(
        person_id=person.pk if person else None,
        production_id=production.pk,
        use=dict(
            kind=kind,
            at=starts_at,
            until=ends_at,
            alteration_exception=alteration_exception or None,
            **flags,
        ),
    )
    agreement, decision = selectors.check_one(scope, request)
    if not ProductionAgreement.objects.filter(
        production=production, agreement__guild_id=agreement.guild_id
    ).exists():
        raise DomainError(
            f"{production} has no {agreement.guild.code} agreement attached; attach one before "
            "recording uses under it.",
            code="agreement_not_attached",
            fields={"production": f"No {agreement.guild.code} agreement attached."},
        )
    relied = Consent.objects.get(pk=decision.consent) if decision.consent else None
    return _save(
        AiUse(
            production=production,
            person=person,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            alteration_exception=alteration_exception or "",
            status=AiUse.Status.ALLOWED if decision.allowed else AiUse.Status.VIOLATION,
            agreement=agreement,
            consent=relied,
            rules=list(decision.rules),
            reasons=list(decision.reasons),
            recorded_by=actor,
            **flags,
            **fields,
        ),
        actor=actor,
    )
