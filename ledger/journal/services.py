"""Use cases that write the journal: post, reverse, create a payable, confirm a payment.

Every write goes through `journal_post_many`, which validates balance in Python first (a clear
error, nothing written), takes the chain-head lock, hashes each transaction onto the chain and
inserts postings before their transaction (see ledger.journal.models for why). The database
re-checks everything; Python's checks exist to give a clean error instead of a trigger's.
"""

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from core.errors import Conflict, DomainError
from core.money import round_money
from core.security.events import security_event
from ledger.journal import chain
from ledger.models import (
    Account,
    Agreement,
    Engagement,
    IdempotencyRecord,
    JournalTransaction,
    Payable,
    Payment,
    PayrollKey,
    Person,
    Posting,
    Production,
)
from ledger.webhooks.services import notify_payables_created

# Any constant works; it names the one lock that orders the hash chain on PostgreSQL.
CHAIN_LOCK_KEY = 7_204_001


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: Decimal
    payable: Payable | None = None
    effect: str = ""  # "owed" or "paid" on payable legs


@dataclass
class Entry:
    """A transaction to post: what caused it and its balanced legs."""

    kind: str
    studio_id: int
    source_type: str
    source_id: str
    description: str
    effective_date: date
    legs: list[Leg]
    reverses_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


class Unbalanced(DomainError):
    code = "journal_unbalanced"


def account_for(
    *,
    purpose: str,
    studio_id: int,
    currency: str,
    production_id: int | None = None,
    person_id: int | None = None,
    engagement_id: int | None = None,
    fund: str = "",
) -> Account:
    """The account for this purpose and owner, created on first use (accounts are never edited)."""
    owner: dict[str, Any] = dict(
        purpose=purpose,
        studio_id=studio_id,
        production_id=production_id,
        person_id=person_id,
        engagement_id=engagement_id,
        fund=fund,
        currency=currency,
    )
    key = Account.key_for(**owner)
    account = Account.objects.filter(key=key).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(key=key, **owner)
    except IntegrityError:  # created concurrently
        return Account.objects.get(key=key)


def _check_balanced(entry: Entry) -> None:
    if len(entry.legs) < 2:
        raise Unbalanced("A transaction needs at least two postings.")
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for leg in entry.legs:
        if not isinstance(leg.amount, Decimal) or leg.amount != round_money(leg.amount):
            raise Unbalanced(f"Amount {leg.amount!r} is not a Decimal in whole cents.")
        if leg.amount == 0:
            raise Unbalanced("A posting of zero says nothing; leave it out.")
        totals[leg.account.currency] += leg.amount
    unbalanced = {c: t for c, t in totals.items() if t != 0}
    if unbalanced:
        raise Unbalanced(f"Postings do not sum to zero per currency: {unbalanced}.")


def _lock_chain_head() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def chain_head() -> tuple[int, str]:
    """(seq, hash) of the last transaction; (0, GENESIS) for an empty journal."""
    head = JournalTransaction.objects.order_by("-seq").values_list("seq", "hash").first()
    return head or (0, chain.GENESIS)


@transaction.atomic
def journal_post_many(*, actor: Any, entries: list[Entry]) -> list[JournalTransaction]:
    """Post `entries` in order, onto the chain, in one database transaction."""
    for entry in entries:
        _check_balanced(entry)
    _lock_chain_head()
    seq, prev_hash = chain_head()
    now = timezone.now()
    headers, postings = [], []
    for entry in entries:
        seq += 1
        header = JournalTransaction(
            id=entry.id,
            seq=seq,
            kind=entry.kind,
            studio_id=entry.studio_id,
            source_type=entry.source_type,
            source_id=str(entry.source_id),
            description=entry.description[:500],
            effective_date=entry.effective_date,
            created_at=now,
            actor_id=actor.pk,
            reverses_id=entry.reverses_id,
            prev_hash=prev_hash,
        )
        legs = [
            Posting(
                transaction_id=entry.id,
                account_id=leg.account.pk,
                payable_id=leg.payable.pk if leg.payable else None,
                effect=leg.effect,
                amount=leg.amount,
                currency=leg.account.currency,
            )
            for leg in entry.legs
        ]
        header.hash = chain.link_hash(
            prev_hash, hash_header(header), [hash_posting(p) for p in legs]
        )
        prev_hash = header.hash
        headers.append(header)
        postings.extend(legs)
    Posting.objects.bulk_create(postings)
    JournalTransaction.objects.bulk_create(headers)
    return headers


def journal_post(*, actor: Any, entry: Entry) -> JournalTransaction:
    return journal_post_many(actor=actor, entries=[entry])[0]


def hash_header(t: JournalTransaction) -> dict[str, Any]:
    return {
        "id": t.id,
        "seq": t.seq,
        "kind": t.kind,
        "studio_id": t.studio_id,
        "source_type": t.source_type,
        "source_id": t.source_id,
        "description": t.description,
        "effective_date": t.effective_date,
        "created_at": t.created_at,
        "actor_id": t.actor_id,
        "reverses_id": t.reverses_id,
    }


def hash_posting(p: Posting) -> dict[str, Any]:
    return {
        "account_id": p.account_id,
        "payable_id": p.payable_id,
        "amount": p.amount,
        "currency": p.currency,
        "effect": p.effect,
    }


@transaction.atomic
def journal_reverse(
    *, actor: Any, transaction_id: uuid.UUID | str, reason: str
) -> JournalTransaction:
    """Post the mirror image of a transaction. A transaction is reversed at most once; a reversal
    is not itself reversed (post the correction anew); an obligation with payments against it is
    reversed only after its payments are."""
    original = JournalTransaction.objects.select_for_update().filter(pk=transaction_id).first()
    if original is None:
        raise DomainError("No such transaction.", code="not_found", status_code=404)
    if original.kind == JournalTransaction.Kind.REVERSAL:
        raise Conflict(
            "A reversal is not reversed; post the correction anew.", code="cannot_reverse_reversal"
        )
    if JournalTransaction.objects.filter(reverses=original).exists():
        raise Conflict("This transaction is already reversed.", code="already_reversed")
    legs = list(original.postings.select_related("account", "payable"))
    if original.kind in (JournalTransaction.Kind.OBLIGATION, JournalTransaction.Kind.ADJUSTMENT):
        for leg in legs:
            if leg.payable_id and payable_amounts(leg.payable_id)["paid"] > 0:
                raise Conflict(
                    "Payments were made against this obligation; reverse them first.",
                    code="payable_has_payments",
                )
    entry = Entry(
        kind=JournalTransaction.Kind.REVERSAL,
        studio_id=original.studio_id,
        source_type="reversal",
        source_id=str(original.id),
        description=f"Reversal of #{original.seq}: {reason}"[:500],
        effective_date=timezone.localdate(),
        reverses_id=original.id,
        legs=[Leg(leg.account, -leg.amount, leg.payable, leg.effect) for leg in legs],
    )
    return journal_post(actor=actor, entry=entry)


def payable_amounts(payable_id: int) -> dict[str, Decimal]:
    """What is owed, paid and due on a payable, from its postings (credits owed are negative)."""
    sums = dict(
        Posting.objects.filter(payable_id=payable_id)
        .values_list("effect")
        .annotate(total=Sum("amount"))
        .values_list("effect", "total")
    )
    owed = -(sums.get("owed") or Decimal("0"))
    paid = sums.get("paid") or Decimal("0")
    return {"owed": round_money(owed), "paid": round_money(paid), "due": round_money(owed - paid)}


@dataclass(frozen=True)
class Fringe:
    fund: str
    rule: str
    amount: Decimal


# What payroll and staff read for a fund's code; a fund not named here is shown by its code.
FUND_TITLES = {
    "sag-aftra-ph": "SAG-AFTRA Pension and Health",
    "sag-aftra-fund": "SAG-AFTRA fund (streaming success-bonus share)",
    "wga-health": "WGA Health Fund",
    "wga-pension": "WGA Pension Plan",
}
SOURCE_ID_LENGTH = 64  # Payable.source_id


def fund_title(fund: str) -> str:
    return FUND_TITLES.get(fund, fund)


def contribution_description(
    *, fund: str, person_id: int | None, production: Production, period_from: date, period_to: date
) -> str:
    """What a fund's payable says it is for. The member is named by id, never by name: a
    payment's journal description quotes its payable's, and the journal's descriptions are
    hashed into the chain, so a name there could never be erased (privacy.services)."""
    member = f" for person #{person_id}" if person_id else ""
    return (
        f"{fund_title(fund)}: contribution{member}, {production.title}, {period_from} – {period_to}"
    )[:500]


def source_id_of(*parts: object) -> str:
    """A payable's `source_id` from its parts, joined by ':'. One longer than the column keeps
    its beginning and ends with a digest of the whole, so two sources never share a cut id."""
    text = ":".join(map(str, parts))
    if len(text) <= SOURCE_ID_LENGTH:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: SOURCE_ID_LENGTH - len(digest) - 1]}:{digest}"


def fund_payable(
    *,
    fund: str,
    rule: str,
    amount: Decimal,
    currency: str,
    production: Production,
    engagement: Engagement | None,
    person_id: int | None,
    agreement: Agreement | None,
    period_from: date,
    period_to: date,
    due_date: date,
    source_type: str,
    source_id: str,
) -> Payable:
    """An unsaved payable to a union fund: a contribution owed on behalf of a member (their
    engagement, when there is one), posted by `obligations_post` against the fringe expense."""
    return Payable(
        studio_id=production.studio_id,
        production=production,
        person=None,
        fund=fund,
        engagement=engagement,
        agreement=agreement,
        rule=rule,
        description=contribution_description(
            fund=fund,
            person_id=person_id,
            production=production,
            period_from=period_from,
            period_to=period_to,
        ),
        amount=amount,
        currency=currency,
        period_from=period_from,
        period_to=period_to,
        due_date=due_date,
        source_type=source_type,
        source_id=source_id,
        created_at=timezone.now(),
    )


@transaction.atomic
def payable_create(
    *,
    actor: Any,
    production: Production,
    person: Person,
    rule: str,
    description: str,
    amount: Decimal,
    currency: str,
    period_from: date,
    period_to: date,
    due_date: date,
    source_type: str,
    source_id: object,
    engagement: Engagement | None = None,
    agreement: Agreement | None = None,
    fringes: Sequence[Fringe] = (),
    expense_purpose: str = Account.Purpose.COMPENSATION_EXPENSE,
) -> Payable:
    """Record an obligation to pay `person`, and post it: the production's expense against the
    person's payable and, for each fringe, the fringe expense against a payable of its own to
    the union fund (source `<source_id>:fund:<fund>`; a fringe of zero owes nothing). One
    obligation, posted by `obligations_post` as a compensation run's approval posts its own.
    Returns the person's payable."""
    amount = round_money(amount)
    agreement = agreement or (engagement.agreement if engagement else None)
    funds = [f.fund for f in fringes]
    if len(set(funds)) != len(funds):
        raise DomainError(
            "One fringe per fund: a fund is owed one contribution per obligation.",
            fields={"fringes": "A fund is named twice."},
        )
    payable = Payable(
        studio_id=production.studio_id,
        production=production,
        person=person,
        engagement=engagement,
        agreement=agreement,
        rule=rule,
        description=description,
        amount=amount,
        currency=currency,
        period_from=period_from,
        period_to=period_to,
        due_date=due_date,
        source_type=source_type,
        source_id=str(source_id),
        created_at=timezone.now(),
    )
    pay = [(payable, amount)]
    for fringe in fringes:
        contribution = round_money(fringe.amount)
        if not contribution:
            continue
        pay.append(
            (
                fund_payable(
                    fund=fringe.fund,
                    rule=fringe.rule,
                    amount=contribution,
                    currency=currency,
                    production=production,
                    engagement=engagement,
                    person_id=person.pk,
                    agreement=agreement,
                    period_from=period_from,
                    period_to=period_to,
                    due_date=due_date,
                    source_type=source_type,
                    source_id=source_id_of(source_id, "fund", fringe.fund),
                ),
                contribution,
            )
        )
    for new, _ in pay:
        new.full_clean()  # a clear error for a bad row, before anything is written
    obligation = Obligation(
        engagement=engagement,
        production=production,
        source_type=source_type,
        source_id=str(source_id),
        description=description,
        effective_date=period_to,
        pay=pay,
        expense_purpose=expense_purpose,
    )
    obligations_post(actor=actor, obligations=[obligation])
    return payable


@dataclass
class Obligation:
    """One transaction of what a production owes one engagement: an amount per payable (new,
    unsaved ones are created; existing ones are adjusted), a person's pay or a union fund's
    contribution alike. Amounts are changes: a negative one reduces what is owed. An obligation
    with only new payables posts as kind `obligation`; one that changes existing payables posts
    as `adjustment`.

    `fringes` (fund, currency, amount) are contributions posted to a fund's account with no
    payable: only for a compensation run's rerun that changes a contribution which an approval
    posted that way, before contributions were payables of their own (see compensation.runs).

    The production that owes is the engagement's, or `production` for an obligation outside any
    engagement (`payable_create` without one); each payable is owed on its payee's account
    (`payee_account`)."""

    engagement: Engagement | None
    source_type: str
    source_id: str
    description: str
    effective_date: date
    pay: list[tuple[Payable, Decimal]] = field(default_factory=list)
    fringes: list[tuple[str, str, Decimal]] = field(default_factory=list)  # fund, currency, amount
    adjustment: bool = False
    production: Production | None = None
    expense_purpose: str = Account.Purpose.COMPENSATION_EXPENSE

    def owing_production(self) -> Production:
        if self.production is not None:
            return self.production
        if self.engagement is None:
            raise ValueError("An obligation names its engagement or its production.")
        return self.engagement.production


@transaction.atomic
def obligations_post(*, actor: Any, obligations: list[Obligation]) -> list[JournalTransaction]:
    """Create the new payables and post one balanced transaction per obligation, in one database
    transaction: the one write path of what is owed (a run's approval, `payable_create`)."""
    now = timezone.now()
    new = [p for o in obligations for p, _ in o.pay if p.pk is None]
    for payable in new:  # built by the caller's service; the database checks its constraints
        payable.created_at = now
    Payable.objects.bulk_create(new)
    account = _AccountCache()
    entries = [_obligation_entry(o, account) for o in obligations if o.pay or o.fringes]
    posted = journal_post_many(actor=actor, entries=entries)
    for studio_id in {p.studio_id for p in new}:
        notify_payables_created(
            studio_id=studio_id, payable_ids=[p.pk for p in new if p.studio_id == studio_id]
        )
    return posted


class _PayeeOwner(TypedDict, total=False):
    studio_id: int
    production_id: int
    person_id: int | None
    engagement_id: int | None
    fund: str


def payee_account(payable: Payable) -> tuple[str, _PayeeOwner]:
    """The purpose and owner of the account a payable is owed on (and paid from): the person's
    payable account of the engagement, or the union fund's payable account of the production."""
    if payable.fund:
        return Account.Purpose.UNION_FUND_PAYABLE, {
            "studio_id": payable.studio_id,
            "production_id": payable.production_id,
            "fund": payable.fund,
        }
    return Account.Purpose.PERSON_PAYABLE, {
        "studio_id": payable.studio_id,
        "production_id": payable.production_id,
        "person_id": payable.person_id,
        "engagement_id": payable.engagement_id,
    }


def _obligation_entry(o: Obligation, account: "_AccountCache") -> Entry:
    """The legs of an obligation: per payable, the production's expense (its fringe expense for
    a fund's payable) against the payable's account; per earlier-style fringe, the fringe
    expense against its union fund's account."""
    production = o.owing_production()
    own: dict[str, int | None] = {
        "studio_id": production.studio_id,
        "production_id": production.pk,
    }
    legs = []
    for payable, amount in o.pay:
        expense = Account.Purpose.FRINGE_EXPENSE if payable.fund else o.expense_purpose
        purpose, payee = payee_account(payable)
        legs += [
            Leg(account(expense, payable.currency, **own), amount),
            Leg(account(purpose, payable.currency, **payee), -amount, payable, "owed"),
        ]
    for fund, currency, amount in o.fringes:
        legs += [
            Leg(account(Account.Purpose.FRINGE_EXPENSE, currency, **own), amount),
            Leg(account(Account.Purpose.UNION_FUND_PAYABLE, currency, fund=fund, **own), -amount),
        ]
    kind = JournalTransaction.Kind.OBLIGATION
    if o.adjustment:
        kind = JournalTransaction.Kind.ADJUSTMENT
    return Entry(
        kind=kind,
        studio_id=production.studio_id,
        source_type=o.source_type,
        source_id=o.source_id,
        description=o.description,
        effective_date=o.effective_date,
        legs=legs,
    )


class _AccountCache:
    """account_for, remembering each account for the rest of one posting."""

    def __init__(self) -> None:
        self.known: dict[tuple[object, ...], Account] = {}

    def __call__(self, purpose: str, currency: str, **owner: Any) -> Account:
        key = (purpose, currency, *sorted(owner.items()))
        if key not in self.known:
            self.known[key] = account_for(purpose=purpose, currency=currency, **owner)
        return self.known[key]


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


# Builds a payment's response body (stored, and replayed for a retry).
Render = Callable[[Payment], dict[str, Any]]


@dataclass(frozen=True)
class PaymentResult:
    status: int
    body: dict[str, Any]
    replayed: bool


def _replay(client: str, key: str, body_hash: str) -> PaymentResult | None:
    record = IdempotencyRecord.objects.filter(client=client, key=key).first()
    if record is None:
        return None
    if record.request_hash != body_hash:
        # A retry that is not one: a client bug, or someone replaying a key (ASVS 16.3.3).
        security_event(
            "payment.idempotency_conflict",
            actor=payment_client_actor(client),
            object=record,
            outcome="denied",
            code="idempotency_key_reused",
        )
        raise DomainError(
            "This Idempotency-Key was used with a different request body.",
            code="idempotency_key_reused",
            status_code=422,
        )
    return PaymentResult(record.response_status, record.response_body, replayed=True)


def payment_confirm(
    *,
    actor: Any,
    client: str,
    idempotency_key: str,
    payable: Payable,
    amount: Decimal,
    paid_at: datetime,
    payroll_reference: str,
    render: Render,
) -> PaymentResult:
    """Record a payment payroll made against a payable, exactly once per idempotency key.

    `render(payment)` builds the response body; it is stored with the posting, in the same
    database transaction, and replayed for a retry with the same key and body."""
    body_hash = request_hash(
        {
            "payable": payable.pk,
            "amount": str(amount),
            "paid_at": paid_at,
            "payroll_reference": payroll_reference,
        }
    )
    replay = _replay(client, idempotency_key, body_hash)
    if replay:
        return replay
    try:
        return _payment_confirm_once(
            actor=actor,
            client=client,
            key=idempotency_key,
            body_hash=body_hash,
            payable=payable,
            amount=amount,
            paid_at=paid_at,
            payroll_reference=payroll_reference,
            render=render,
        )
    except IntegrityError:
        # A concurrent request with the same key (or reference) committed first.
        replay = _replay(client, idempotency_key, body_hash)
        if replay:
            return replay
        raise Conflict(
            f"Payroll reference {payroll_reference!r} is already recorded.",
            code="duplicate_reference",
        ) from None


def _check_paid_at(payable: Payable, paid_at: datetime) -> None:
    """A payment is made when payroll made it: not later than now (give or take the clocks'
    skew, `CLOCK_SKEW_TOLERANCE`), and not before the payable is in the books, which is from
    the start (UTC) of its obligation's effective date, its `period_to`. Its date becomes the
    payment transaction's effective date, so a payment from 2030 would sit in the journal as a
    2030 fact, and one before its obligation would leave the person overpaid in between."""
    tolerance = settings.CLOCK_SKEW_TOLERANCE
    if paid_at > timezone.now() + tolerance:
        seconds = int(tolerance.total_seconds())
        raise DomainError(
            "The payment is dated in the future; give the moment payroll made it.",
            code="paid_at_invalid",
            fields={"paid_at": [f"More than {seconds} seconds after now."]},
        )
    earliest = datetime.combine(payable.period_to, time(), tzinfo=UTC)
    if paid_at < earliest:
        raise DomainError(
            f"The payment is dated before payable #{payable.pk} is owed ({payable.period_to}).",
            code="paid_at_invalid",
            fields={"paid_at": [f"Before the payable's obligation date, {payable.period_to}."]},
        )


@transaction.atomic
def _payment_confirm_once(
    *,
    actor: Any,
    client: str,
    key: str,
    body_hash: str,
    payable: Payable,
    amount: Decimal,
    paid_at: datetime,
    payroll_reference: str,
    render: Render,
) -> PaymentResult:
    Payable.objects.select_for_update().filter(pk=payable.pk).first()  # one payer at a time
    replay = _replay(client, key, body_hash)  # the holder of the lock may have just used it
    if replay:
        return replay
    _check_paid_at(payable, paid_at)
    if Payment.objects.filter(client=client, payroll_reference=payroll_reference).exists():
        raise Conflict(
            f"Payroll reference {payroll_reference!r} is already recorded.",
            code="duplicate_reference",
        )
    amount = round_money(amount)
    due = payable_amounts(payable.pk)["due"]
    if amount > due:
        raise DomainError(
            f"{amount} is more than the {due} {payable.currency} still due.",
            code="overpayment",
            status_code=422,
        )
    entry_id = uuid.uuid4()
    purpose, payee = payee_account(payable)
    journal_post(
        actor=actor,
        entry=Entry(
            id=entry_id,
            kind=JournalTransaction.Kind.PAYMENT,
            studio_id=payable.studio_id,
            source_type="payment",
            source_id=payroll_reference[:64],
            description=f"Payment {payroll_reference} for {payable.description}",
            effective_date=paid_at.date(),
            legs=[
                Leg(
                    account_for(purpose=purpose, currency=payable.currency, **payee),
                    amount,
                    payable,
                    "paid",
                ),
                Leg(
                    account_for(
                        purpose=Account.Purpose.PAYROLL_CLEARING,
                        studio_id=payable.studio_id,
                        production_id=payable.production_id,
                        currency=payable.currency,
                    ),
                    -amount,
                ),
            ],
        ),
    )
    payment = Payment.objects.create(
        payable=payable,
        amount=amount,
        currency=payable.currency,
        paid_at=paid_at,
        payroll_reference=payroll_reference,
        client=client,
        transaction_id=entry_id,
        created_at=timezone.now(),
    )
    body = render(payment)
    IdempotencyRecord.objects.create(
        client=client,
        key=key,
        request_hash=body_hash,
        response_status=201,
        response_body=body,
        created_at=timezone.now(),
    )
    return PaymentResult(201, body, replayed=False)


def payment_client_actor(client: str) -> str:
    """The actor behind a payment's `client` (`key:<pk>` or `user:<pk>`, see PaymentViewSet)."""
    kind, _, ident = client.partition(":")
    if kind == "key":
        prefix = PayrollKey.objects.filter(pk=ident).values_list("prefix", flat=True).first()
        return f"api_key:{prefix}" if prefix else "anonymous"
    if kind == "user" and ident.isdigit():
        return client
    return "anonymous"
