"""Writes of the reporting layer: store a report (once per scope and period when scheduled),
send it to its subscribers (once per recipient), subscribe, publish a label, send a receipt,
raise and resolve flags for follow-up."""

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.mail import BadHeaderError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from compensation import selectors as compensation_selectors
from compensation.models import CompensationLine
from consent import selectors as consent_selectors
from consent.models import AiUse, Consent, ConsentEvent
from core import mail
from core.audit import system_user
from core.errors import DomainError, NotFound
from ledger import access
from ledger.access import Scope
from ledger.models import Guild, GuildStaff, Production, Studio, StudioStaff

from . import compliance, receipts, render, selectors
from .models import (
    DisclosureLabel,
    Flag,
    ReceiptDelivery,
    Report,
    ReportDelivery,
    ScopeKind,
    Subscription,
)
from .render import canonical_json

logger = logging.getLogger(__name__)

# What sending can raise: the mail server unreachable or refusing (smtplib's errors are OSErrors),
# or a header Django will not send.
MAIL_ERRORS = (OSError, BadHeaderError)


# A report covers dates inside these bounds, over at most MAX_PERIOD_DAYS (ten years): the
# agreements the ledger applies begin in this century, and a period reaching the end of the
# calendar (9999-12-31) cannot even be counted forward a day.
PERIOD_MIN = date(2000, 1, 1)
PERIOD_MAX = date(2100, 12, 31)
MAX_PERIOD_DAYS = 3660


def period_check(period_from: date, period_to: date) -> None:
    """Refuse (DomainError naming the field) a report period outside PERIOD_MIN..PERIOD_MAX,
    ending before it starts, or longer than MAX_PERIOD_DAYS."""
    bounds = f"between {PERIOD_MIN} and {PERIOD_MAX}"
    for name, day in (("period_from", period_from), ("period_to", period_to)):
        if not PERIOD_MIN <= day <= PERIOD_MAX:
            raise DomainError(f"A report period lies {bounds}.", fields={name: f"A date {bounds}."})
    if period_to < period_from:
        raise DomainError(
            "The period cannot end before it starts.", fields={"period_to": "Before period_from."}
        )
    if (period_to - period_from).days >= MAX_PERIOD_DAYS:
        raise DomainError(
            f"A report period is at most {MAX_PERIOD_DAYS} days long.",
            fields={"period_to": f"At most {MAX_PERIOD_DAYS} days after period_from."},
        )


def report_on_demand(request: Mapping[str, Any], *, actor: Any) -> Report:
    """A report asked for now: `request` names its `target`, `period_from` and `period_to` (the
    API's and the admin's run form)."""
    report, _ = report_generate(
        target=request["target"],
        period_from=request["period_from"],
        period_to=request["period_to"],
        origin=Report.Origin.ON_DEMAND,
        actor=actor,
    )
    return report


def report_generate(
    *,
    target: compliance.Target,
    period_from: date,
    period_to: date,
    origin: str,
    actor: Any,
    as_of: datetime | None = None,
) -> tuple[Report, bool]:
    """Build and store a compliance report. A scheduled report exists once per scope and
    period: asking again returns the stored one and `created` False."""
    period_check(period_from, period_to)
    scheduled = origin == Report.Origin.SCHEDULED
    if scheduled and (existing := _scheduled(target, period_from, period_to)) is not None:
        return existing, False
    as_of = as_of or timezone.now()
    content = compliance.build(target, period_from, period_to, as_of)
    text = canonical_json(content)
    report = Report(
        scope_kind=target.kind,
        scope_key=target.key,
        production=target.production,
        studio=target.studio,
        guild=target.guild,
        period_from=period_from,
        period_to=period_to,
        origin=origin,
        generated_at=as_of,
        content=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        counts={s["key"]: s["count"] for s in content["sections"]},
        requested_by=actor,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # Another run of the same schedule stored it first.
        if scheduled and (existing := _scheduled(target, period_from, period_to)) is not None:
            return existing, False
        raise
    return report, True


def _scheduled(target: compliance.Target, period_from: date, period_to: date) -> Report | None:
    return Report.objects.filter(
        scope_key=target.key,
        period_from=period_from,
        period_to=period_to,
        origin=Report.Origin.SCHEDULED,
    ).first()


def recipients(report: Report) -> list[Any]:
    """Active subscribers still on the staff of the report's studio (production and studio
    reports) or guild (guild reports), with an e-mail address."""
    if report.scope_kind == ScopeKind.GUILD:
        subs = Subscription.objects.filter(guild=report.guild)
        staff = GuildStaff.objects.filter(guild=report.guild).values("user_id")
    else:
        subs = Subscription.objects.filter(studio=report.studio)
        staff = StudioStaff.objects.filter(studio=report.studio).values("user_id")
    subs = subs.filter(active=True, user__is_active=True).exclude(user__email="")
    subs = subs.filter(Q(user__is_superuser=True) | Q(user_id__in=staff))
    return [s.user for s in subs.select_related("user").order_by("user_id")]


def report_deliver(*, report: Report) -> list[ReportDelivery]:
    """E-mail the report, PDF attached, to each recipient it has not yet been sent to. A
    recipient is recorded after the message is handed to the mail server, so a crash in
    between sends that one message again on the next run, never none."""
    sent_to = set(report.deliveries.values_list("user_id", flat=True))
    pending = [user for user in recipients(report) if user.pk not in sent_to]
    if not pending:
        return []
    pdf = render.pdf(report)
    deliveries = []
    for user in pending:
        message = mail.message(
            subject=f"Guild Ledger: {report}", body=render.email_text(report), to=[user.email]
        )
        message.attach(render.file_name(report, "pdf"), pdf, "application/pdf")
        message.send()
        deliveries.append(
            ReportDelivery.objects.create(
                report=report, user=user, email=user.email, sent_at=timezone.now()
            )
        )
    return deliveries


@dataclass(frozen=True)
class Delivery:
    """What became of sending a stored report when asked to: `status` is "not_requested",
    "sent" (to `sent` subscribers not sent it before; 0 when there were none) or "failed" (the
    mail server could not be reached or refused it, after `sent` messages; the report is
    stored all the same)."""

    status: str
    sent: int = 0


def report_send_now(*, report: Report) -> Delivery:
    """Send a report just stored on request (the API's and the admin's "run now"). The report
    is kept whatever happens to the mail: a failure to send is reported in the answer, and
    logged, instead of failing a request whose report already exists."""
    before = report.deliveries.count()
    try:
        deliveries = report_deliver(report=report)
    except MAIL_ERRORS:
        logger.exception("Report %s was stored but could not be sent", report.pk)
        return Delivery(status="failed", sent=report.deliveries.count() - before)
    return Delivery(status="sent", sent=len(deliveries))


def report_run(
    *, target: compliance.Target, period_from: date, period_to: date, origin: str, actor: Any
) -> tuple[Report, bool]:
    """Store the report and send it to its subscribers (what a schedule does)."""
    report, created = report_generate(
        target=target, period_from=period_from, period_to=period_to, origin=origin, actor=actor
    )
    report_deliver(report=report)
    return report, created


def active_productions() -> QuerySet[Production]:
    return Production.objects.exclude(status__in=["completed", "cancelled"]).select_related(
        "studio"
    )


@transaction.atomic
def subscription_set(
    *,
    actor: Any,
    user: Any,
    studio: Studio | None = None,
    guild: Guild | None = None,
    active: bool = True,
) -> Subscription:
    """Subscribe `user` to a studio's or a guild's reports (or stop with active=False). Only
    that studio's or guild's staff may receive its reports."""
    if (studio is None) == (guild is None):
        raise DomainError("Subscribe to a studio or to a guild.", fields={"studio": "One of two."})
    allowed = user.is_superuser or (
        StudioStaff.objects.filter(user=user, studio=studio).exists()
        if studio
        else GuildStaff.objects.filter(user=user, guild=guild).exists()
    )
    if not allowed:
        raise DomainError(
            f"{user} is not on the staff of {studio or guild}.",
            code="not_staff",
            fields={"user": "Not on that staff."},
        )
    existing: Subscription | None = (
        Subscription.objects.select_for_update()
        .filter(user=user, studio=studio, guild=guild)
        .first()
    )
    sub = existing or Subscription(user=user, studio=studio, guild=guild)
    if sub.pk and sub.active == active:
        return sub
    sub.active = active
    sub._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it
    sub.full_clean()
    sub.save()
    return sub


@transaction.atomic
def label_publish(
    *, actor: Any, scope: Scope, production: Production, published: bool
) -> DisclosureLabel:
    """Publish or withdraw the production's AI disclosure label (studio staff only)."""
    if not scope.can_write_studio(production.studio_id):
        raise NotFound("No such production.")
    label: DisclosureLabel
    label, _ = DisclosureLabel.objects.select_for_update().get_or_create(production=production)
    if label.published == published:
        return label
    label.published = published
    label._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it
    label.save()
    return label


def receipt_send(
    *, actor: Any, consent: Consent, event: ConsentEvent | None = None
) -> ReceiptDelivery:
    """E-mail a consent receipt (JSON and PDF) to the person's address on record. A receipt is
    personal data: it never goes to an address the caller supplies."""
    person = consent.person
    # Whoever signed for the person receives it: a representative at their recorded address.
    signer_address = (
        person.representative_email if consent.signed_by_capacity == "representative" else ""
    )
    to = signer_address or person.email
    if not to:
        raise DomainError(
            f"{consent.person} has no e-mail address on record; record it on the person first.",
            code="no_email",
            fields={"email": "The person has no e-mail address on record."},
        )
    receipt = receipts.receipt(consent, event)
    message = mail.message(
        subject=f"Your consent receipt: {receipt['record_id']}",
        body=receipts.summary_text(receipt),
        to=[to],
    )
    message.attach(f"{receipt['record_id']}.pdf", receipts.pdf(receipt), "application/pdf")
    message.attach(f"{receipt['record_id']}.json", receipts.json_bytes(receipt), "application/json")
    try:
        message.send()
    except MAIL_ERRORS:
        logger.exception("The receipt of consent %s could not be sent", consent.pk)
        raise DomainError(
            "The mail server could not send the receipt; nothing was recorded. Try again later.",
            code="mail_unavailable",
            status_code=503,
        ) from None
    return ReceiptDelivery.objects.create(
        consent=consent, event=event, email=to, sent_by=actor, sent_at=timezone.now()
    )


# --- flags for follow-up ----------------------------------------------------------------------

NOTE_MAX_LENGTH = 4000

# What may be flagged: the flag's field for it, and the selector that scopes it (the same one
# that decides what a guild's staff see of it).
Scoper = Callable[[Scope, QuerySet[Any]], QuerySet[Any]]
FLAGGABLE: dict[type[models.Model], tuple[str, Scoper]] = {
    Production: ("production", access.productions),
    Consent: ("consent", consent_selectors.consents),
    AiUse: ("ai_use", consent_selectors.ai_uses),
    CompensationLine: ("line", compensation_selectors.lines),
}


def _flaggable(target: models.Model) -> tuple[str, Scoper]:
    try:
        return FLAGGABLE[type(target)]
    except KeyError:
        raise DomainError(
            "Flag a production, a consent, an AI use or a compensation line.",
            code="not_flaggable",
        ) from None


def _in_scope(scope: Scope, target: models.Model) -> bool:
    _, scoped = _flaggable(target)
    return scoped(scope, type(target)._default_manager.filter(pk=target.pk)).exists()


def flag_guild(scope: Scope, target: models.Model) -> int | None:
    """The guild (id) whose staff may flag `target`: the first of the caller's guilds whose
    agreements cover it; None if the caller is on no such guild's staff."""
    if scope.payroll_key is not None:
        return None
    return next(
        (g for g in sorted(scope.guild_ids) if _in_scope(Scope(guild_ids=frozenset({g})), target)),
        None,
    )


def _note(text: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError("Write a note saying what to follow up.", fields={field: "Required."})
    if len(text) > NOTE_MAX_LENGTH:
        raise DomainError(
            f"The note is longer than {NOTE_MAX_LENGTH} characters.",
            fields={field: f"At most {NOTE_MAX_LENGTH} characters."},
        )
    return text


@transaction.atomic
def flag_raise(*, actor: Any, scope: Scope, target: models.Model, note: str) -> Flag:
    """Flag a production, consent, AI use or compensation line for follow-up. Only staff of a
    guild whose agreements cover it may: anyone else who can see it is refused, and to anyone
    who cannot it does not exist."""
    field, _ = _flaggable(target)
    text = _note(note, "note")
    guild_id = flag_guild(scope, target)
    if guild_id is None:
        if scope.payroll_key is None and _in_scope(scope, target):
            raise DomainError(
                "Only staff of a guild whose agreement covers it may flag it for follow-up.",
                code="guild_staff_only",
                status_code=403,
            )
        raise NotFound("Not found.")
    flag = Flag(
        **{field: target},
        note=text,
        guild_id=guild_id,
        raised_by=actor,
        created_at=timezone.now(),
    )
    flag._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it
    flag.full_clean()
    flag.save()
    return flag


@transaction.atomic
def flag_resolve(*, actor: Any, scope: Scope, flag: Flag, note: str) -> Flag:
    """Resolve an open flag, saying how: studio staff of the production's studio or the staff
    of the guild that raised it. Resolving a resolved flag changes nothing."""
    locked: Flag | None = Flag.objects.select_for_update().filter(pk=flag.pk).first()
    if locked is None or not selectors.flags(scope).filter(pk=flag.pk).exists():
        raise NotFound("No such flag.")
    if locked.resolved_at is not None:
        return locked
    locked.resolution_note = _note(note, "resolution_note")
    locked.resolved_at = timezone.now()
    locked.resolved_by = actor
    locked._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it
    locked.full_clean()
    locked.save()
    return locked


@transaction.atomic
def flag_from_person(*, person: Any, consent: Consent, note: str) -> Flag:
    """Flag `person`'s own consent from their page (a question, or a revocation or suspension
    they recorded), for the guild whose agreement the consent is under, raised by the system
    user: the person has no account. Refuses a consent of someone else (`not_found`), an empty
    or overlong note, and a consent under an agreement of no guild (`no_guild`: only the
    studio's staff can be told of it)."""
    if consent.person_id != person.pk:
        raise NotFound("No such consent.")
    text = _note(note, "note")
    guild_id = consent.agreement.guild_id
    if guild_id is None:
        raise DomainError(
            "This consent is under no guild's agreement: there is no guild to flag it to.",
            code="no_guild",
        )
    actor = system_user()
    flag = Flag(
        consent=consent, note=text, guild_id=guild_id, raised_by=actor, created_at=timezone.now()
    )
    flag._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it
    flag.full_clean()
    flag.save()
    return flag
