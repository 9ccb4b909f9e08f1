"""Use cases that write consent records. Each is atomic, validates before it writes, locks what it
changes and records the acting user."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import save_audited
from core.errors import Conflict, DomainError, Forbidden, NotFound
from ledger.access import Scope
from ledger.models import Agreement, Person, Production, ProductionAgreement
from ledger.registry import catalogue

from . import rules, selectors
from .evidence import evidence_digest
from .models import (
    USE_FLAGS,
    AiUse,
    AiUseVoid,
    Consent,
    ConsentEvent,
    StrikePeriod,
    UnionNotice,
    WgaDisclosure,
)


def _agreement_for(production: Production, category: str, day: date) -> Agreement:
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
        chosen: Agreement = (in_force or attached)[0]
        return chosen
    raise DomainError(
        f"No {guild} agreement is attached to {production}.",
        code="agreement_not_attached",
        fields={"production": f"Attach a {guild} agreement first."},
    )


def _non_union_engagement(person: Person, production: Production) -> Agreement | None:
    """The non-union agreement, when the person is engaged on the production under it: their
    consents fall under the general and state-law rules (RULES.md §1 `non-union`)."""
    engagement = (
        person.engagements.filter(production=production, agreement__code=catalogue.NON_UNION)
        .select_related("agreement")
        .first()
    )
    return engagement.agreement if engagement else None


def _category_for(person: Person, production: Production) -> str:
    engagement = person.engagements.filter(production=production).order_by("created_at").first()
    if engagement is None:
        raise DomainError(
            "The person is not engaged on this production; give the category.",
            fields={"category": "Required when the person has no engagement here."},
        )
    category: str = selectors.CLASSIFICATION_CATEGORY[engagement.classification]
    return category


@transaction.atomic
def consent_grant(
    *,
    actor: Any,
    person: Person,
    production: Production,
    kind: str,
    evidence: "File[Any]",
    category: str | None = None,
    agreement: Agreement | None = None,
    supersedes: Consent | None = None,
    **fields: Any,
) -> Consent:
    """Record a signed consent with its evidence. `supersedes` names the consent of the same
    person and kind whose scope this one replaces; the old one then covers nothing."""
    if supersedes is not None:
        supersedes = Consent.objects.select_for_update().get(pk=supersedes.pk)
        _check_supersedable(supersedes, person=person, kind=kind)
    category, agreement = category_and_agreement(
        person, production, category, agreement, fields.get("signed_at")
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
        return save_audited(consent, actor=actor)
    except Exception:
        consent.evidence.delete(save=False)
        raise


def category_and_agreement(
    person: Person,
    production: Production,
    category: str | None,
    agreement: Agreement | None,
    signed_at: datetime | None,
) -> tuple[str, Agreement]:
    """The consent's category (given, or the person's engagement's) and agreement (given and
    attached to the production, or the attached one in force when it is signed)."""
    category = category or _category_for(person, production)
    if agreement is None:
        day = signed_at.date() if signed_at else timezone.now().date()
        agreement = _non_union_engagement(person, production) or _agreement_for(
            production, category, day
        )
    elif not ProductionAgreement.objects.filter(
        production=production, agreement=agreement
    ).exists():
        raise DomainError(
            f"{agreement.code} is not attached to {production}.",
            code="agreement_not_attached",
            fields={"agreement": "Not attached to the production."},
        )
    guild = catalogue.guild_of(agreement.code)
    if guild is not None and rules.CATEGORY_GUILD[category] != guild:
        raise DomainError(
            f"A {category} does not consent under {agreement.code}.",
            fields={"category": f"Not a {guild} category."},
        )
    return category, agreement


@dataclass(frozen=True)
class ConsentReview:
    """What consent_review answers: the agreement and category the draft would be recorded
    under, and the rules' findings on it."""

    agreement: Agreement
    category: str
    review: rules.Review

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.review.ok,
            "agreement": self.agreement.code,
            "category": self.category,
            "findings": [
                {"rule": f.rule, "passed": f.passed, "message": f.message}
                for f in self.review.findings
            ],
            "warnings": [{"rule": w.rule, "message": w.message} for w in self.review.warnings],
        }


def consent_review(
    *,
    person: Person,
    production: Production,
    kind: str,
    category: str | None = None,
    agreement: Agreement | None = None,
    supersedes: Consent | None = None,
    evidence: Any = None,
    **fields: Any,
) -> ConsentReview:
    """Check a draft consent before it is recorded (rules.review_consent): the rules that can
    be judged on the consent alone, rule by rule. Takes what consent_grant takes (the evidence
    and the consent superseded play no part) and refuses what it refuses before it would
    write; writes nothing."""
    category, agreement = category_and_agreement(
        person, production, category, agreement, fields.get("signed_at")
    )
    person_facts, consent = selectors.draft_facts(
        person=person,
        production=production,
        category=category,
        draft={"kind": kind, **fields},
    )
    try:
        review = rules.review_consent(agreement.code, person_facts, consent)
    except rules.CheckInputError as error:
        raise DomainError(
            error.message, code=error.code, fields={error.field or "kind": error.message}
        ) from error
    return ConsentReview(agreement=agreement, category=category, review=review)


def _check_supersedable(old: Consent, *, person: Person, kind: str) -> None:
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
    revoked = selectors.revoked_at(list(old.events.all()))
    if revoked is not None and revoked <= timezone.now():
        raise Conflict(
            f"Consent {old.pk} is revoked; grant a new consent instead of superseding it.",
            code="consent_revoked",
            fields={"supersedes": "Revoked."},
        )


def _check_event_at(consent: Consent, at: datetime) -> None:
    """An event's instant lies between the consent's signature and a short tolerance after now
    (settings.CLOCK_SKEW_TOLERANCE): events are append-only, so one dated years ahead would
    decide the consent's state for good."""
    if at > timezone.now() + settings.CLOCK_SKEW_TOLERANCE:
        raise DomainError(
            "The event cannot take effect in the future; record it when it happens.",
            code="event_in_future",
            fields={"at": "In the future: at most a few minutes after now."},
        )
    if at < consent.signed_at:
        raise DomainError(
            "The event cannot take effect before the consent was signed.",
            code="event_before_signature",
            fields={"at": f"Before the signature ({consent.signed_at.isoformat()})."},
        )


def _lock_for_event(consent: Consent, at: datetime) -> tuple[Consent, list[ConsentEvent]]:
    """Lock the consent and check that an event at `at` may be recorded; returns the consent's
    events that take effect at or before `at`, in order (the state the event changes).

    Events recorded before the future was bounded may lie far ahead; they neither block a
    present event nor count as having happened yet."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    _check_event_at(consent, at)
    events = list(consent.events.order_by("effective_at", "id"))
    if Consent.objects.filter(supersedes=consent).exists():
        raise Conflict(
            "This consent is superseded and covers nothing; act on its successor.",
            code="consent_superseded",
        )
    revoked = selectors.revoked_at(events)
    if revoked is not None and revoked <= at:
        raise Conflict("This consent is already revoked.", code="consent_revoked")
    return consent, [e for e in events if e.effective_at <= at]


def _check_after_last_event(consent: Consent, at: datetime) -> None:
    """A suspension or resumption follows the events already in effect: it cannot be dated
    before the latest of them."""
    now = timezone.now()
    settled = [e for e in consent.events.all() if e.effective_at <= max(now, at)]
    last = max((e.effective_at for e in settled), default=None)
    if last is not None and at < last:
        raise DomainError(
            "The event cannot take effect before the consent's last event.",
            code="event_before_last_event",
            fields={"at": f"Before {last.isoformat()}."},
        )


def _event(consent: Consent, kind: str, *, actor: Any, at: datetime, reason: str) -> ConsentEvent:
    return save_audited(
        ConsentEvent(consent=consent, kind=kind, effective_at=at, reason=reason, actor=actor),
        actor=actor,
    )


@transaction.atomic
def consent_revoke(
    *, actor: Any, consent: Consent, reason: str, at: datetime | None = None
) -> ConsentEvent:
    """consent.revoked: the consent covers no use dated at or after `at`; earlier uses stay
    covered. Revocation is final, and always recordable while the consent still covers
    something: whether it is suspended, and whatever later events were recorded, a revocation
    dated before any earlier-recorded revocation takes effect from its own date."""
    at = at or timezone.now()
    consent, _ = _lock_for_event(consent, at)
    return _event(consent, ConsentEvent.Kind.REVOKED, actor=actor, at=at, reason=reason)


@transaction.atomic
def consent_suspend(
    *, actor: Any, consent: Consent, reason: str, at: datetime | None = None
) -> ConsentEvent:
    """Suspend the consent from `at` until it is resumed; suspending twice changes nothing."""
    return _pause_event(consent, ConsentEvent.Kind.SUSPENDED, actor=actor, at=at, reason=reason)


@transaction.atomic
def consent_resume(
    *, actor: Any, consent: Consent, reason: str, at: datetime | None = None
) -> ConsentEvent:
    return _pause_event(consent, ConsentEvent.Kind.RESUMED, actor=actor, at=at, reason=reason)


def _pause_event(
    consent: Consent, kind: str, *, actor: Any, at: datetime | None, reason: str
) -> ConsentEvent:
    """A suspension or a resumption (at: now when not given), after the events in effect. An
    open suspension is not suspended again (the open one is returned); only it can be resumed."""
    at = at or timezone.now()
    consent, events = _lock_for_event(consent, at)
    _check_after_last_event(consent, at)
    periods = selectors.suspensions(events)
    suspended = bool(periods) and periods[-1][1] is None
    if kind == ConsentEvent.Kind.SUSPENDED and suspended:
        return next(e for e in reversed(events) if e.kind == ConsentEvent.Kind.SUSPENDED)
    if kind == ConsentEvent.Kind.RESUMED and not suspended:
        raise Conflict("This consent is not suspended.", code="consent_not_suspended")
    return _event(consent, kind, actor=actor, at=at, reason=reason)


# The guild each kind of union notice goes to (sag.consent.synthetic, iatse.ai_impact_notice,
# wga.training_notice).
NOTICE_GUILD = {
    "synthetic_performer": rules.SAG,
    "ai_impact": rules.IATSE,
    "training_license": rules.WGA,
}


def _check_production_writable(scope: Scope, production: Production, field: str) -> None:
    """The caller's scope must cover the production's studio (outside it the production does not
    exist for the caller). Internal callers (the demo) pass an administrator's scope."""
    if not scope.can_write_studio(production.studio_id):
        raise NotFound("No such production.", fields={field: "Not found."})


@transaction.atomic
def union_notice_record(*, actor: Any, scope: Scope, **fields: Any) -> UnionNotice:
    """A notice to a union, fixed once given: a synthetic performer's use goes to SAG-AFTRA, the
    impact of AI systems to IATSE."""
    notice = UnionNotice(recorded_by=actor, **fields)
    expected = NOTICE_GUILD.get(notice.kind)
    if expected is not None and notice.guild_id and notice.guild.code != expected:
        raise DomainError(
            f"A {notice.kind} notice goes to {expected}.",
            fields={"guild": f"A {notice.kind} notice goes to {expected}."},
        )
    if notice.production_id:
        _check_production_writable(scope, notice.production, "production")
    return save_audited(notice, actor=actor)


def _check_strike(scope: Scope, strike: StrikePeriod) -> None:
    """Strikes are recorded and corrected by the staff of the guild on strike (or an
    administrator): sag.consent.strike names the guild's own strike periods. A strike cannot end
    before it starts."""
    if not scope.can_write_guild(strike.guild_id):
        raise Forbidden(
            "Only the guild's staff record its strikes.", fields={"guild": "Not your guild."}
        )
    if strike.ends_on and strike.starts_on and strike.ends_on < strike.starts_on:
        raise DomainError(
            "A strike cannot end before it starts.",
            fields={"ends_on": "A strike cannot end before it starts."},
        )


@transaction.atomic
def strike_period_record(*, actor: Any, scope: Scope, **fields: Any) -> StrikePeriod:
    strike = StrikePeriod(recorded_by=actor, **fields)
    _check_strike(scope, strike)
    return save_audited(strike, actor=actor)


@transaction.atomic
def strike_period_update(
    *, actor: Any, strike: StrikePeriod, scope: Scope, **fields: Any
) -> StrikePeriod:
    """Correct a strike's dates or description (typically: set its end when it ends). A strike
    stays with its guild."""
    strike = StrikePeriod.objects.select_for_update().get(pk=strike.pk)
    _check_strike(scope, strike)
    guild = fields.pop("guild", strike.guild)
    if getattr(guild, "pk", guild) != strike.guild_id:
        raise DomainError("A strike's guild cannot change.", fields={"guild": "Cannot change."})
    for name, value in fields.items():
        setattr(strike, name, value)
    _check_strike(scope, strike)
    return save_audited(strike, actor=actor)


@transaction.atomic
def wga_disclosure_record(*, actor: Any, scope: Scope, **fields: Any) -> WgaDisclosure:
    """A disclosure to a writer, fixed once made (wga.disclosure)."""
    disclosure = WgaDisclosure(recorded_by=actor, **fields)
    if disclosure.production_id:
        _check_production_writable(scope, disclosure.production, "production")
    return save_audited(disclosure, actor=actor)


def _check_replica_days(kind: str, agreement: Agreement, days: Decimal | None) -> None:
    """sag.pay.ebdr_use pays a replica use per day the performer would have worked: a SAG-AFTRA
    replica use without those days (or with none) could never be paid, so it is refused when
    recorded rather than failing in a later run."""
    is_sag = catalogue.guild_of(agreement.code) == rules.SAG
    if kind == "replica_use" and is_sag and not (days and days > 0):
        raise DomainError(
            "A replica use needs the number of days the performer would have worked for it.",
            code="replica_days_required",
            fields={
                "days": "Required for a replica use: the days the performer would have "
                "worked (more than 0)."
            },
        )


@transaction.atomic
def ai_use_record(
    *,
    actor: Any,
    scope: Scope,
    production: Production,
    person: Person | None,
    kind: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    alteration_exception: str = "",
    **fields: Any,
) -> AiUse:
    """Record a use in the production's register with the consent decision made now. A use that
    no consent covers is recorded as a `violation`, never refused: the register is evidence."""
    flags = {flag: fields.pop(flag, False) for flag in USE_FLAGS}
    request = selectors.CheckRequest(
        person_id=person.pk if person else None,
        production_id=production.pk,
        kind=kind,
        at=starts_at,
        until=ends_at,
        alteration_exception=alteration_exception or None,
        flags=rules.UseFlags(**flags),
        synthetic_justification=fields.get("synthetic_justification", ""),
        distributed_in=tuple(fields.get("distributed_in") or ()),
        ad_exemption=fields.get("ad_exemption") or None,
    )
    agreement, decision = selectors.check_one(scope, request)
    guild = catalogue.guild_of(agreement.code)
    same_guild = (
        Q(agreement__guild__isnull=True)
        if agreement.guild_id is None
        else Q(agreement__guild_id=agreement.guild_id)
    )
    if not ProductionAgreement.objects.filter(same_guild, production=production).exists():
        raise DomainError(
            f"{production} has no {guild} agreement attached; {agreement.code} governs "
            f"{starts_at.date()}: attach it before recording uses under it.",
            code="agreement_not_attached",
            fields={"production": f"No {guild} agreement attached."},
        )
    _check_replica_days(kind, agreement, fields.get("days"))
    fields["distributed_in"] = list(fields.get("distributed_in") or ())
    relied = Consent.objects.get(pk=decision.consent) if decision.consent else None
    return save_audited(
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
            warnings=[{"rule": w.rule, "message": w.message} for w in decision.warnings],
            recorded_by=actor,
            **flags,
            **fields,
        ),
        actor=actor,
    )


@transaction.atomic
def ai_use_void(*, actor: Any, use: AiUse, reason: str) -> AiUseVoid:
    """Void a use recorded by mistake (against the wrong consent, say), with who, when and why.
    The use and its history stay in the register; from now on it counts in no decision, report
    section, compensation run or dashboard, and reports list it apart. A void is final: voiding
    a voided use is refused (409 `ai_use_voided`)."""
    use = AiUse.objects.select_for_update().get(pk=use.pk)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "Say why the use is voided.", fields={"reason": "Required: why the use is voided."}
        )
    if AiUseVoid.objects.filter(use=use).exists():
        raise Conflict(f"AI use #{use.pk} is already voided.", code="ai_use_voided")
    return save_audited(AiUseVoid(use=use, reason=reason, actor=actor), actor=actor)
