"""A person's own page: what the ledger holds about their consents, the AI uses of their likeness
or material, and what they were paid for them, reached by a link sent to their recorded address.

A person has no user account, so django-sesame (which signs in Django users) does not apply: the
page uses the hashed-secret approach of consent requests (consent.requests). The link's secret
is random, appears only in the message sent to the person's recorded address, and is stored only
as its SHA-256 (`PersonalLink.token_hash`). A link opens the page once and only within
PERSONAL_LINK_MINUTES; the page's session lasts as long. Asking for a link answers the same
whether or not the address is on record, so the form tells no one who is in the ledger; a link
forwarded to someone else shows only the person it was sent to.

Services write (`link_ask`, `link_for`, `link_open`); `page` reads what the page shows.
"""

import hashlib
import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from compensation.models import CompensationLine, CompensationRun, ResidualLine
from consent import selectors as consent_selectors
from consent.models import AiUse, Consent
from core import mail
from core.audit import save_audited, system_user
from core.money import money_display
from ledger.journal.selectors import payables_with_amounts
from ledger.models import Payable, Person

from . import wording
from .models import PersonalLink

logger = logging.getLogger(__name__)

# What a link's secret looks like: token_urlsafe(32) is 43 characters; anything far off it is
# not looked up at all.
TOKEN_MIN_LENGTH = 20
TOKEN_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
# Links sent to one person in the last hour beyond which a request for another sends nothing:
# the form cannot be used to flood a recorded address.
LINKS_PER_HOUR = 5
# Runs whose lines are shown: computed (awaiting approval) and approved. Lines of queued,
# failed or superseded runs were never, or are no longer, what is owed.
SHOWN_RUNS = (CompensationRun.Status.COMPUTED, CompensationRun.Status.APPROVED)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return timezone.now()


# --- links ------------------------------------------------------------------------------------


def link_for(person: Person, *, minutes: int | None = None) -> str:
    """A new link to `person`'s own page, valid for `minutes` (PERSONAL_LINK_MINUTES unless
    given: the demo prints one that lasts a day). The secret is returned in the URL and never
    stored."""
    minutes = settings.PERSONAL_LINK_MINUTES if minutes is None else minutes
    token = secrets.token_urlsafe(32)
    now = _now()
    save_audited(
        PersonalLink(
            person=person,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        ),
        actor=system_user(),
    )
    return settings.SITE_URL + reverse("personal-open", args=[token])


def _normalised(email: Any) -> str:
    return email.strip() if isinstance(email, str) else ""


def link_ask(email: str) -> None:
    """E-mail a link to the page of each person whose recorded address is `email` (trimmed,
    compared without regard to case), to that recorded address. Returns nothing, whatever the
    outcome: an unknown address sends nothing, a mail server that fails is logged and leaves no
    link behind, and a person sent LINKS_PER_HOUR links in the last hour is sent no more."""
    address = _normalised(email)
    if not address or len(address) > EMAIL_MAX_LENGTH or "@" not in address:
        return
    people = Person.objects.filter(email__iexact=address).exclude(email="").order_by("pk")
    for person in people:
        if _recently_sent(person) >= LINKS_PER_HOUR:
            logger.info("Personal page link not sent to person %s: too many asked", person.pk)
            continue
        try:
            with transaction.atomic():
                link = link_for(person)
                _message(person, link).send()
        except (OSError, BadHeaderError):
            logger.exception("The personal page link of person %s could not be sent", person.pk)


def _recently_sent(person: Person) -> int:
    return PersonalLink.objects.filter(
        person=person, created_at__gte=_now() - timedelta(hours=1)
    ).count()


def _message(person: Person, link: str):
    minutes = settings.PERSONAL_LINK_MINUTES
    return mail.message(
        subject="Your page in Guild Ledger",
        body=(
            f"Hello {person.name},\n\n"
            "Someone asked for a link to your page in Guild Ledger: your consents, the uses of "
            "AI made of your likeness or work, and what you were paid for them. Open it here:\n"
            f"{link}\n\n"
            f"The link works once, for {minutes} minutes. If you did not ask for it, ignore this "
            "message: nothing is shown to anyone without the link.\n"
        ),
        to=[person.email],
    )


def link_open(token: Any) -> Person | None:
    """The person whose link this is, when the link is unused and unexpired; the link is then
    spent. None for anything else: used, expired, forged, or not even shaped like a link."""
    if not isinstance(token, str) or not TOKEN_MIN_LENGTH <= len(token) <= TOKEN_MAX_LENGTH:
        return None
    now = _now()
    with transaction.atomic():
        link = (
            PersonalLink.objects.select_for_update()
            .select_related("person")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if link is None or link.used_at is not None or link.expires_at <= now:
            return None
        link.used_at = now
        save_audited(link, actor=system_user())
        return link.person


# --- the page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRow:
    consent: Consent
    status: str
    kind_words: str
    term_words: str
    has_evidence: bool
    may_revoke: bool
    may_suspend: bool


@dataclass(frozen=True)
class UseRow:
    use: AiUse
    allowed: bool
    reasons: list[str]


@dataclass(frozen=True)
class LineRow:
    line: CompensationLine | ResidualLine
    amount: str
    state: str  # approved, awaiting approval, or a pay line's hold


def _state(run: CompensationRun) -> str:
    return "approved" if run.status == CompensationRun.Status.APPROVED else "awaiting approval"


@dataclass(frozen=True)
class PayableRow:
    payable: Payable
    owed: str
    paid: str
    due: str


@dataclass(frozen=True)
class Totals:
    currency: str
    owed: str
    paid: str
    due: str


@dataclass
class Page:
    person: Person
    consents: list[ConsentRow] = field(default_factory=list)
    uses: list[UseRow] = field(default_factory=list)
    pay_lines: list[LineRow] = field(default_factory=list)
    residual_lines: list[LineRow] = field(default_factory=list)
    payables: list[PayableRow] = field(default_factory=list)
    totals: list[Totals] = field(default_factory=list)


def consents_of(person: Person):
    return Consent.objects.filter(person=person)


def consent_of(person: Person, consent_id: Any) -> Consent | None:
    """`person`'s consent with this id; None for anyone else's, or an id that is not one."""
    try:
        pk = int(consent_id)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return (
        consents_of(person)
        .select_related("person", "production__studio", "agreement__guild")
        .filter(pk=pk)
        .first()
    )


def consent_row(consent: Consent, *, now: datetime) -> ConsentRow:
    events = list(consent.events.order_by("effective_at", "id"))
    status = consent_selectors.consent_status(consent, now=now, events=events)
    return ConsentRow(
        consent=consent,
        status=status,
        kind_words=wording.kind_words(consent.kind),
        term_words=wording.term_words(consent),  # type: ignore[arg-type]  # same term fields
        has_evidence=bool(consent.evidence),
        may_revoke=status in ("granted", "suspended"),
        may_suspend=status == "granted",
    )


def _money(amount: Decimal | None, currency: str) -> str:
    return money_display(amount if amount is not None else Decimal(0), currency)


def page(person: Person, *, now: datetime | None = None) -> Page:
    """What the person's page shows, of this person only: every consent (superseded ones too)
    with its status now; every AI use of them not voided, with its decision and the consent it
    relied on; the pay lines of computed and approved runs on their engagements or their uses,
    and the residual lines paid to them; and their payables with what is owed, paid and still
    due, per currency too."""
    now = now or _now()
    out = Page(person=person)
    consents = consents_of(person).select_related("production", "agreement__guild")
    out.consents = [consent_row(c, now=now) for c in consents.order_by("-signed_at", "-pk")]

    uses = consent_selectors.not_voided(AiUse.objects.filter(person=person))
    for use in uses.select_related("production", "consent").order_by("-starts_at", "-pk"):
        out.uses.append(
            UseRow(
                use=use,
                allowed=use.status == AiUse.Status.ALLOWED,
                reasons=[str(r) for r in (use.reasons or [])],
            )
        )

    lines = (
        CompensationLine.objects.filter(
            Q(engagement__person=person) | Q(ai_use__person=person),
            kind=CompensationLine.Kind.PAY,
            run__status__in=SHOWN_RUNS,
        )
        .select_related("run__production", "ai_use")
        .order_by("-date", "-pk")
        .distinct()
    )
    for line in lines:
        state = _state(line.run)
        if line.status != CompensationLine.Status.PAYABLE:
            state = line.get_status_display()
        out.pay_lines.append(LineRow(line, _money(line.amount, line.currency), state))
    residuals = (
        ResidualLine.objects.filter(engagement__person=person, fund="", run__status__in=SHOWN_RUNS)
        .select_related("run__production")
        .order_by("-date", "-pk")
    )
    for residual in residuals:
        out.residual_lines.append(
            LineRow(residual, _money(residual.amount, residual.currency), _state(residual.run))
        )

    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    payables = payables_with_amounts(Payable.objects.filter(person=person))
    for payable in payables.select_related("production").order_by("-due_date", "-pk"):
        owed = payable.owed_amount or Decimal(0)
        paid = payable.paid_amount or Decimal(0)
        due = payable.due_amount if payable.due_amount is not None else owed - paid
        out.payables.append(
            PayableRow(
                payable=payable,
                owed=_money(owed, payable.currency),
                paid=_money(paid, payable.currency),
                due=_money(due, payable.currency),
            )
        )
        total = sums[payable.currency]
        sums[payable.currency] = [total[0] + owed, total[1] + paid, total[2] + due]
    out.totals = [
        Totals(currency, *(_money(value, currency) for value in values))
        for currency, values in sorted(sums.items())
    ]
    return out


def impact(
    consent: Consent, *, now: datetime | None = None
) -> list[consent_selectors.UncoveredUse]:
    """The planned uses, dated from now, that relying on `consent` would no longer be covered
    once it is revoked or suspended from now (a suspension with no end yet takes away the same
    uses as a revocation until it is lifted)."""
    return consent_selectors.revocation_impact(consent, at=now or _now())
