"""The compliance report: what is wrong, or about to go wrong, in a scope (a production, a studio,
or a guild across studios) over a period, as of the moment it is made.

Each section names the rule ids (RULES.md) behind it, counts what it found and lists the rows
behind the count. Every row has one shape (rule, object, id, production, person, date, detail,
count, amount, currency), so that the HTML page, the CSV and the PDF lay every section out the
same way; a row that stands for several records (lines of one rule, say) carries their count.

What a section reads, and why:
- Dated records (AI uses, lines, deliveries) count when their date falls in the period.
- Standing conditions (consents about to expire, planned uses, overdue payables, the ledger
  chain) are as of the moment the report is made.
- The register stores the decision made when a use was recorded. A revocation, suspension or
  strike recorded later can take away the consent a use was allowed on, so uses that a later
  fact may affect, and every planned use, are checked again on today's facts
  (`consent.selectors.recheck`).
- Compensation lines are those of the production's current runs (computed or approved), never
  of a superseded or failed run.
- Flags for follow-up are those open at the moment the report is made: raised by then and not
  yet resolved by then.
- A use voided by the moment the report is made (recorded by mistake) counts in no section and
  none of its held lines is listed; the last section lists such uses of the period apart, with
  who voided each, when and why.
- State law (RULES.md §2, `law.*`) and warnings: the uses of the period whose stored decision
  cites a `law.*` rule or carries a warning, and the consents signed in the period, judged as
  they stand by the consent review (`consent.selectors.recorded_reviews`). Each state-law row
  states the consequence the law attaches, in the words RULES.md gives it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce

from compensation import selectors as compensation_selectors
from compensation.models import CompensationLine, CompensationRun, WgaDelivery
from consent import selectors as consent_selectors
from consent.models import AiUse, Consent, ConsentEvent, StrikePeriod, UnionNotice, WgaDisclosure
from consent.rules import Review
from core.errors import DomainError
from core.money import money_str, round_money
from ledger.access import Scope
from ledger.journal import checkpoints
from ledger.journal import selectors as journal_selectors
from ledger.journal.services import fund_title
from ledger.journal.verify import verify_chain
from ledger.models import Checkpoint, Guild, Payable, Posting, Production, Studio

from . import selectors as report_selectors
from .models import Flag, ScopeKind

EXPIRY_WINDOW = timedelta(days=30)
WITHDRAWN_RULES = ("consent.revoked", "sag.consent.strike")
CURRENT_RUNS = (CompensationRun.Status.COMPUTED, CompensationRun.Status.APPROVED)
UNCONFIRMED_TIERS = ("T", "D")
STATE_LAW = "law."
# What each state-law rule's breach costs or means (RULES.md §2), as the report states it.
CONSEQUENCES = {
    "law.ca.lab927": "the replica clause is unenforceable: the consent covers no use",
    "law.ny.gol5_302": "the replica clause is unenforceable: the consent covers no use",
    "law.il.dvlpa": "the replica clause is unenforceable: the consent covers no use",
    "law.ca.civ3344_1": "liability: the greater of $10,000 or actual damages",
    "law.ny.cr50f": "no written consent of the heirs or executors: the use is not covered",
    "law.ny.gbl396b": "$1,000 then $5,000 per violation",
}

# (key, title, rule ids): the sections in the order every format shows them.
SECTIONS = (
    ("violations", "AI uses recorded as violations", "the rules each use failed (RULES.md §2)"),
    (
        "planned_uses_not_covered",
        "Planned uses not covered by a consent",
        "RULES.md §2, checked again on today's facts",
    ),
    ("consents_expiring", "Consents expiring within 30 days", "consent.term"),
    (
        "uses_after_withdrawal",
        "Uses after a revocation, during a suspension or during a strike",
        "consent.revoked, sag.consent.strike",
    ),
    ("missing_wga_disclosures", "Missing WGA disclosures", "wga.disclosure"),
    (
        "missing_union_notices",
        "Missing union notices",
        "sag.consent.synthetic, iatse.ai_impact_notice",
    ),
    (
        "state_law",
        "State law",
        "law.ca.lab927, law.ny.gol5_302, law.il.dvlpa, law.ca.civ3344_1, law.ny.cr50f, "
        "law.ny.gbl396b, law.us.no_fakes",
    ),
    ("held_lines", "Held compensation lines", "the line's pay rule (RULES.md §3)"),
    ("overdue_payables", "Payables past their due date", "the payable's rule"),
    (
        "needs_confirmation",
        "Lines computed from T- or D-tier figures (needs confirmation)",
        "the line's rule (RULES.md §3)",
    ),
    (
        "warnings",
        "Warnings on consents and uses (needs confirmation)",
        "advisory and unconfirmed rules (RULES.md §2); they refuse nothing",
    ),
    ("rate_missing", "rate_missing exceptions", "the rule that needed the rate"),
    ("below_scale", "Engagements paid below scale", "the line's pay rule (RULES.md §3)"),
    (
        "background_headcount",
        "Background replicas counted toward headcount",
        "sag.consent.background",
    ),
    ("flagged_for_follow_up", "Flagged for follow-up", "guild.follow_up"),
    ("ledger_chain", "Ledger chain verification", "ledger.journal.chain"),
    ("voided_uses", "Voided AI uses", "ai_use.void: recorded by mistake, counted nowhere above"),
)
TITLES = {key: title for key, title, _ in SECTIONS}


@dataclass(frozen=True)
class Target:
    """What a report covers: one production, one studio, or one guild across studios."""

    kind: str
    production: Production | None = None
    studio: Studio | None = None
    guild: Guild | None = None

    @classmethod
    def of(cls, obj) -> "Target":
        if isinstance(obj, Production):
            return cls(ScopeKind.PRODUCTION, production=obj, studio=obj.studio)
        if isinstance(obj, Studio):
            return cls(ScopeKind.STUDIO, studio=obj)
        if isinstance(obj, Guild):
            return cls(ScopeKind.GUILD, guild=obj)
        raise TypeError(f"A report covers a production, a studio or a guild, not {obj!r}.")

    # What the kind implies is set (Target.of): a production's target has its studio too.

    def the_production(self) -> Production:
        assert self.production is not None, self
        return self.production

    def the_studio(self) -> Studio:
        assert self.studio is not None, self
        return self.studio

    def the_guild(self) -> Guild:
        assert self.guild is not None, self
        return self.guild

    @property
    def key(self) -> str:
        if self.kind == ScopeKind.PRODUCTION:
            return f"production:{self.the_production().pk}"
        if self.kind == ScopeKind.STUDIO:
            return f"studio:{self.the_studio().pk}"
        return f"guild:{self.the_guild().code}"

    @property
    def label(self) -> str:
        if self.kind == ScopeKind.PRODUCTION:
            return f"{self.the_production().title} ({self.the_studio().name})"
        if self.kind == ScopeKind.STUDIO:
            return self.the_studio().name
        return f"{self.the_guild().name}, across studios"

    def scope(self) -> Scope:
        """The access scope whose view of the data this report is."""
        if self.kind == ScopeKind.GUILD:
            return Scope(guild_ids=frozenset({self.the_guild().pk}))
        return Scope(studio_ids=frozenset({self.the_studio().pk}))

    def narrow(self, qs: QuerySet, production_path: str = "production") -> QuerySet:
        if self.kind == ScopeKind.PRODUCTION:
            return qs.filter(**{production_path: self.production})
        return qs


def build(target: Target, period_from: date, period_to: date, as_of: datetime) -> dict:
    """The report's content: plain JSON values only (amounts as strings)."""
    ctx = _Context(target, period_from, period_to, as_of)
    sections = [_section(key, title, rules, BUILDERS[key](ctx)) for key, title, rules in SECTIONS]
    return {
        "report": "compliance",
        "scope": {"kind": target.kind, "key": target.key, "label": target.label},
        "period": {"from": period_from.isoformat(), "to": period_to.isoformat()},
        "generated_at": as_of.astimezone(UTC).isoformat(),
        "sections": sections,
        "ledger": ctx.chain,
    }


# --- what every section shares --------------------------------------------------------------


class _Context:
    def __init__(self, target: Target, period_from: date, period_to: date, as_of: datetime):
        self.target = target
        self.scope = target.scope()
        self.period_from, self.period_to, self.as_of = period_from, period_to, as_of
        self.start = datetime.combine(period_from, time.min, tzinfo=UTC)
        self.end = datetime.combine(period_to + timedelta(days=1), time.min, tzinfo=UTC)
        self.chain: dict[str, object] | None = None
        self._violations: list[AiUse] | None = None
        self._reviews: list[tuple[Consent, Review]] | None = None

    def all_uses(self) -> QuerySet:
        qs = AiUse.objects.select_related("production", "person")
        return self.target.narrow(consent_selectors.ai_uses(self.scope, qs))

    def uses(self) -> QuerySet:
        """The uses that count: those not voided by the moment the report is made."""
        return consent_selectors.not_voided(self.all_uses(), as_of=self.as_of)

    def uses_in_period(self) -> QuerySet:
        return self.uses().filter(starts_at__gte=self.start, starts_at__lt=self.end)

    def violations(self) -> list[AiUse]:
        if self._violations is None:
            self._violations = list(
                self.uses_in_period().filter(status=AiUse.Status.VIOLATION).order_by("starts_at")
            )
        return self._violations

    def consent_reviews(self) -> list[tuple[Consent, Review]]:
        """The consents signed in the period, each with its review as it stands."""
        if self._reviews is None:
            qs = consent_selectors.consents(
                self.scope,
                Consent.objects.filter(signed_at__gte=self.start, signed_at__lt=self.end),
            )
            consents = list(
                self.target.narrow(qs)
                .select_related("person", "production", "agreement")
                .order_by("signed_at", "id")
            )
            reviews = consent_selectors.recorded_reviews(consents)
            self._reviews = [
                (c, r) for c, r in zip(consents, reviews, strict=True) if r is not None
            ]
        return self._reviews

    def uses_citing(self, field: str, text: str) -> QuerySet:
        """The uses of the period whose stored `field` (rules or warnings, JSON) holds `text`."""
        return (
            self.uses_in_period()
            .annotate(cited=Cast(field, CharField()))
            .filter(cited__contains=text)
            .order_by("starts_at", "id")
        )

    def current_lines(self) -> QuerySet:
        qs = CompensationLine.objects.filter(
            run__in=current_runs(), date__gte=self.period_from, date__lte=self.period_to
        )
        return self.target.narrow(
            compensation_selectors.lines(self.scope, qs), "run__production"
        ).select_related("run__production")


def current_runs() -> QuerySet:
    """Computed or approved runs with no later computed or approved run of the same production
    and period: an approved run stays approved when a rerun of its period (after a released
    hold or a new rate sheet) is approved, and only the latest says what is owed."""
    later = CompensationRun.objects.filter(
        production_id=OuterRef("production_id"),
        period_from=OuterRef("period_from"),
        period_to=OuterRef("period_to"),
        status__in=CURRENT_RUNS,
        id__gt=OuterRef("id"),
    )
    return CompensationRun.objects.filter(status__in=CURRENT_RUNS).filter(~Exists(later))


def _row(rule, obj, pk, production, person, on, detail, *, count=1, amount=None, currency=""):
    return {
        "rule": rule,
        "object": obj,
        "id": pk,
        "production": production,
        "person": person,
        "date": on.isoformat() if on else "",
        "detail": detail,
        "count": count,
        "amount": money_str(round_money(Decimal(amount))) if amount is not None else "",
        "currency": currency if amount is not None else "",
    }


def _days(delta: timedelta) -> str:
    return f"{delta.days} day{'s' if delta.days != 1 else ''}"


def _section(key: str, title: str, rules: str, rows: list[dict]) -> dict:
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row["amount"]:
            totals[row["currency"]] += Decimal(row["amount"])
    return {
        "key": key,
        "title": title,
        "rules": rules,
        "count": sum(row["count"] for row in rows),
        "totals": {currency: money_str(total) for currency, total in sorted(totals.items())},
        "rows": rows,
    }


def _use_row(use: AiUse, rules, detail: str) -> dict:
    return _row(
        " ".join(rules),
        "ai_use",
        use.pk,
        use.production.title,
        use.person.name if use.person else "synthetic performer",
        use.starts_at.date(),
        f"{use.kind.replace('_', ' ')}: {detail}",
    )


# --- the sections ---------------------------------------------------------------------------


def _violations(ctx: _Context) -> list[dict]:
    return [_use_row(use, use.rules, " ".join(use.reasons)) for use in ctx.violations()]


def _planned_uses_not_covered(ctx: _Context) -> list[dict]:
    planned = list(ctx.uses().filter(starts_at__gt=ctx.as_of).order_by("starts_at", "id"))
    rows = []
    for use, decision in zip(planned, consent_selectors.recheck(planned), strict=True):
        if isinstance(decision, DomainError):
            rows.append(_use_row(use, [decision.code], decision.message))
        elif not decision.allowed:
            rows.append(_use_row(use, decision.rules, " ".join(decision.reasons)))
    return rows


def _consents_expiring(ctx: _Context) -> list[dict]:
    today = ctx.as_of.date()
    qs = consent_selectors.consents(
        ctx.scope,
        Consent.objects.filter(term_to__gte=today, term_to__lte=today + EXPIRY_WINDOW),
    )
    consents = ctx.target.narrow(qs).select_related("production", "person", "superseded_by")
    rows = []
    for consent in consents.prefetch_related("events").order_by("term_to", "id"):
        status = consent_selectors.consent_status(
            consent, now=ctx.as_of, events=list(consent.events.all())
        )
        if status not in ("granted", "suspended"):
            continue
        rows.append(
            _row(
                "consent.term",
                "consent",
                consent.pk,
                consent.production.title,
                consent.person.name,
                consent.term_to,
                f"{consent.kind.replace('_', ' ')} consent ({status}) ends on {consent.term_to}, "
                f"in {_days(consent.term_to - today)}.",
            )
        )
    return rows


def _uses_after_withdrawal(ctx: _Context) -> list[dict]:
    """Uses refused as revoked, suspended or struck when recorded, and allowed uses that a
    revocation, suspension or strike recorded since then now takes away."""
    rows = [
        _use_row(use, [r for r in use.rules if r in WITHDRAWN_RULES], " ".join(use.reasons))
        for use in ctx.violations()
        if set(use.rules) & set(WITHDRAWN_RULES)
    ]
    allowed = ctx.uses_in_period().filter(status=AiUse.Status.ALLOWED)
    withdrawn = ConsentEvent.objects.filter(
        consent_id=OuterRef("consent_id"),
        kind__in=[ConsentEvent.Kind.REVOKED, ConsentEvent.Kind.SUSPENDED],
    )
    candidates = Q(Exists(withdrawn))
    for strike in StrikePeriod.objects.filter(guild__code="sag-aftra"):
        dated = Q(ends_at__date__gte=strike.starts_on) | Q(
            ends_at__isnull=True, starts_at__date__gte=strike.starts_on
        )
        if strike.ends_on is not None:
            dated &= Q(starts_at__date__lte=strike.ends_on)
        candidates |= Q(agreement__code="sag-tvth-2026") & dated
    uses = list(allowed.filter(candidates).order_by("starts_at", "id"))
    for use, decision in zip(uses, consent_selectors.recheck(uses), strict=True):
        if isinstance(decision, DomainError) or decision.allowed:
            continue
        failed = [r for r in decision.rules if r in WITHDRAWN_RULES]
        if failed:
            rows.append(
                _use_row(use, failed, "allowed when recorded; now " + " ".join(decision.reasons))
            )
    return rows


def _missing_wga_disclosures(ctx: _Context) -> list[dict]:
    rows = [
        _use_row(use, ["wga.disclosure"], " ".join(use.reasons))
        for use in ctx.violations()
        if "wga.disclosure" in use.rules
    ]
    disclosed = WgaDisclosure.objects.filter(
        production_id=OuterRef("engagement__production_id"),
        writer_id=OuterRef("engagement__person_id"),
        disclosed_at__date__lte=OuterRef("date"),
    )
    qs = compensation_selectors.deliveries(
        ctx.scope,
        WgaDelivery.objects.filter(
            ai_material_handed_over=True, date__gte=ctx.period_from, date__lte=ctx.period_to
        ),
    )
    for delivery in ctx.target.narrow(qs, "engagement__production").filter(~Exists(disclosed)):
        rows.append(
            _row(
                "wga.disclosure",
                "wga_delivery",
                delivery.pk,
                delivery.engagement.production.title,
                delivery.engagement.person.name,
                delivery.date,
                f"{delivery.work_type} delivered with AI-generated material and no disclosure "
                "to the writer on or before that date.",
            )
        )
    return rows


def _missing_union_notices(ctx: _Context) -> list[dict]:
    """Synthetic performers used, and IATSE-covered AI uses made, with no notice to the union
    in the production before the use."""
    rows = []
    for kind, rule, uses in (
        ("synthetic_performer", "sag.consent.synthetic", Q(kind="synthetic_performer")),
        ("ai_impact", "iatse.ai_impact_notice", Q(agreement__guild__code="iatse")),
    ):
        notice = UnionNotice.objects.filter(
            production_id=OuterRef("production_id"), kind=kind, given_at__lte=OuterRef("starts_at")
        )
        for use in ctx.uses_in_period().filter(uses).filter(~Exists(notice)).order_by("starts_at"):
            rows.append(
                _use_row(
                    use, [rule], f"no {kind.replace('_', ' ')} notice to the union before the use."
                )
            )
    return rows


def _consent_row(consent: Consent, rule: str, detail: str) -> dict:
    return _row(
        rule,
        "consent",
        consent.pk,
        consent.production.title,
        consent.person.name,
        consent.signed_at.date(),
        f"{consent.kind.replace('_', ' ')} consent: {detail}",
    )


def _consequence(rule: str, message: str) -> str:
    """The rule's message with its consequence, unless the message already states it."""
    consequence = CONSEQUENCES.get(rule)
    if consequence is None or consequence.split(": ", 1)[-1].lower() in message.lower():
        return message
    return f"{message} Consequence: {consequence}."


def _state_law(ctx: _Context) -> list[dict]:
    """Uses refused by a `law.*` rule or warned by one, and consents of the period that a
    `law.*` rule makes cover nothing or warns about, with the law's consequence."""
    rows = []
    for use in ctx.uses_citing("rules", f'"{STATE_LAW}'):
        cited = [r for r in use.rules if r.startswith(STATE_LAW)]
        if use.status != AiUse.Status.VIOLATION or not cited:
            continue
        for rule in cited:
            rows.append(_use_row(use, [rule], _consequence(rule, " ".join(use.reasons))))
    for use in ctx.uses_citing("warnings", f'"{STATE_LAW}'):
        for warning in use.warnings:
            if warning["rule"].startswith(STATE_LAW):
                rule = warning["rule"]
                rows.append(_use_row(use, [rule], _consequence(rule, warning["message"])))
    for consent, review in ctx.consent_reviews():
        notes = [
            *((f.rule, f.message) for f in review.findings if not f.passed),
            *((w.rule, w.message) for w in review.warnings),
        ]
        for rule, message in notes:
            if rule.startswith(STATE_LAW):
                rows.append(_consent_row(consent, rule, _consequence(rule, message)))
    return rows


def _warnings(ctx: _Context) -> list[dict]:
    """Every warning (advisory or unconfirmed rule) on the period's uses and consents."""
    rows = [
        _use_row(use, [warning["rule"]], warning["message"])
        for use in ctx.uses_citing("warnings", '"rule"')
        for warning in use.warnings
    ]
    for consent, review in ctx.consent_reviews():
        for warning in review.warnings:
            rows.append(_consent_row(consent, warning.rule, warning.message))
    return rows


def _held_lines(ctx: _Context) -> list[dict]:
    lines = consent_selectors.not_voided(
        ctx.current_lines().filter(status=CompensationLine.Status.HELD),
        as_of=ctx.as_of,
        path="ai_use__",
    )
    return [
        _row(
            line.rule,
            "compensation_line",
            line.pk,
            line.run.production.title,
            line.engagement.person.name,
            line.date,
            f"{line.description} — held: AI use #{line.ai_use_id} was recorded as a violation.",
            amount=line.amount,
            currency=line.currency,
        )
        for line in lines.select_related("engagement__person").order_by("date", "id")
    ]


def past_due_payables(scope: Scope, qs: QuerySet, today: date) -> QuerySet:
    return journal_selectors.scoped_payables(scope, qs).filter(due_date__lt=today)


def overdue_sums(past_due: QuerySet, *fields: str) -> QuerySet:
    """Owed and paid of each past-due payable that is not paid in full (with `fields` of the
    payable, e.g. its production and currency), summed once per payable in one grouped query:
    a correlated sum per payable, filtered on its result, costs the planner a scan of the
    postings for each of a studio's payables. SQLite sums decimals as floats, so round each
    amount (`overdue_amounts`) before comparing."""
    return (
        Posting.objects.filter(payable__in=past_due.values("id"))
        .order_by()
        .values("payable_id", *fields)
        .annotate(
            owed=Coalesce(-Sum("amount", filter=Q(effect="owed")), journal_selectors.ZERO),
            paid=Coalesce(Sum("amount", filter=Q(effect="paid")), journal_selectors.ZERO),
        )
        .filter(owed__gt=F("paid"))
    )


def overdue_amounts(sums) -> list[tuple[dict, Decimal, Decimal]]:
    """(row, owed, due) of each row of `overdue_sums` with an amount still due, to the cent."""
    rows = []
    for s in sums:
        owed, paid = round_money(Decimal(s["owed"])), round_money(Decimal(s["paid"]))
        if owed > paid:  # SQLite sums decimals as floats: a paid payable may differ by 1e-12
            rows.append((s, owed, owed - paid))
    return rows


def _overdue_payables(ctx: _Context) -> list[dict]:
    """Past-due payables with an amount still due, to people and to union funds (a fund's row
    names the fund where a person's names the person)."""
    today = ctx.as_of.date()
    past_due = past_due_payables(ctx.scope, ctx.target.narrow(Payable.objects.all()), today)
    amounts = {
        s["payable_id"]: (owed, due) for s, owed, due in overdue_amounts(overdue_sums(past_due))
    }
    payables = Payable.objects.filter(pk__in=list(amounts)).select_related("production", "person")
    rows = []
    for p in payables.order_by("due_date", "id"):
        owed, due = amounts[p.pk]
        rows.append(
            _row(
                p.rule,
                "payable",
                p.pk,
                p.production.title,
                p.person.name if p.person is not None else fund_title(p.fund),
                p.due_date,
                f"{p.description}: {money_str(due)} {p.currency} of {money_str(owed)} still due, "
                f"{_days(today - p.due_date)} late.",
                amount=due,
                currency=p.currency,
            )
        )
    return rows


def _grouped_lines(qs: QuerySet, detail) -> list[dict]:
    """One row per production, rule and currency (and tier): how many lines, of how many
    people, for how much."""
    groups = (
        qs.order_by()
        .values("run__production_id", "run__production__title", "rule", "tier", "currency")
        .annotate(lines=Count("id"), people=Count("engagement__person", distinct=True))
        .annotate(total=Sum("amount"))
        .order_by("run__production__title", "run__production_id", "rule", "tier", "currency")
    )
    return [
        _row(
            g["rule"],
            "compensation_lines",
            None,
            g["run__production__title"],
            "",
            None,
            detail(g),
            count=g["lines"],
            amount=g["total"],
            currency=g["currency"],
        )
        for g in groups
    ]


def _needs_confirmation(ctx: _Context) -> list[dict]:
    qs = ctx.current_lines().filter(
        status=CompensationLine.Status.PAYABLE, tier__in=UNCONFIRMED_TIERS
    )
    return _grouped_lines(
        qs,
        lambda g: (
            f"{g['lines']} lines of {g['people']} people computed from a tier {g['tier']} "
            "figure: confirm it against the official rate sheet."
        ),
    )


def _rate_missing(ctx: _Context) -> list[dict]:
    runs = compensation_selectors.runs(
        ctx.scope,
        current_runs().filter(period_from__lte=ctx.period_to, period_to__gte=ctx.period_from),
    )
    rows = []
    for run in ctx.target.narrow(runs).order_by("period_from", "id"):
        for problem in compensation_selectors.visible_exceptions(ctx.scope, run):
            if problem.get("code") != "rate_missing":
                continue
            rows.append(
                _row(
                    problem.get("rule") or "rate_missing",
                    "compensation_run",
                    run.pk,
                    run.production.title,
                    problem.get("person", ""),
                    run.period_from,
                    f"Run of {run.period_from} to {run.period_to}: {problem.get('message', '')}",
                )
            )
    return rows


def _below_scale(ctx: _Context) -> list[dict]:
    flagged = ctx.current_lines().annotate(flags_text=Cast("flags", CharField()))
    rows = []
    for flag, words in (
        ("below_scale", "negotiated rate below scale (paid at scale)"),
        ("below_day_minimum", "bargained amount below one day minimum (paid as bargained)"),
    ):
        qs = flagged.filter(flags_text__contains=f'"{flag}"')
        groups = (
            qs.order_by()
            .values(
                "engagement_id",
                "engagement__person__professional_name",
                "engagement__person__legal_name",
                "run__production__title",
                "rule",
                "currency",
            )
            .annotate(lines=Count("id"), total=Sum("amount"))
            .order_by("run__production__title", "engagement_id", "rule")
        )
        for g in groups:
            rows.append(
                _row(
                    g["rule"],
                    "engagement",
                    g["engagement_id"],
                    g["run__production__title"],
                    g["engagement__person__professional_name"]
                    or g["engagement__person__legal_name"],
                    None,
                    f"{words}: {g['lines']} line{'s' if g['lines'] != 1 else ''}.",
                    count=g["lines"],
                    amount=g["total"],
                    currency=g["currency"],
                )
            )
    return rows


def _background_headcount(ctx: _Context) -> list[dict]:
    uses = ctx.uses_in_period().filter(counted_toward_headcount=True).order_by("starts_at", "id")
    return [
        _use_row(
            use,
            ["sag.consent.background"],
            "a background actor's replica was counted toward the required background headcount.",
        )
        for use in uses
    ]


def open_flags_at(scope: Scope, at: datetime) -> QuerySet:
    """Flags in `scope` raised by `at` and not resolved by then."""
    qs = Flag.objects.filter(created_at__lte=at).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gt=at)
    )
    return report_selectors.flags(scope, qs)


def _flag_person(flag: Flag) -> str:
    if flag.consent is not None:
        return flag.consent.person.name
    if flag.ai_use is not None:
        return flag.ai_use.person.name if flag.ai_use.person else "synthetic performer"
    if flag.line is not None:
        return flag.line.engagement.person.name
    return ""


def _flagged_for_follow_up(ctx: _Context) -> list[dict]:
    flags = open_flags_at(ctx.scope, ctx.as_of)
    if ctx.target.kind == ScopeKind.PRODUCTION:
        flags = flags.filter(subject_production_id=ctx.target.the_production().pk)
    titles = dict(
        Production.objects.filter(pk__in=flags.values("subject_production_id")).values_list(
            "pk", "title"
        )
    )
    flags = flags.select_related(
        "guild", "raised_by", "consent__person", "ai_use__person", "line__engagement__person"
    )
    return [
        _row(
            "guild.follow_up",
            "flag",
            flag.pk,
            titles[flag.subject_production_id],
            _flag_person(flag),
            flag.created_at.date(),
            f"{flag.guild.name} flagged {flag.target_label} "
            f"(by {flag.raised_by.get_username()}): {flag.note}",
        )
        for flag in flags.order_by("created_at", "id")
    ]


def _ledger_chain(ctx: _Context) -> list[dict]:
    """The whole journal: a break anywhere concerns everyone. Verified incrementally: from the
    latest checkpoint whose signature verifies (carried in the content, so that a reader can
    check it with the installation's public key), only what was appended since is walked."""
    report = verify_chain()
    ctx.chain = {
        "intact": report.ok,
        "mode": report.mode,
        "checked": report.checked,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "checkpoint": _checkpoint(report.checkpoint),
    }
    rows = [
        _row(
            "ledger.journal.chain",
            "checkpoint",
            str(bad.id),
            "",
            "",
            None,
            f"Checkpoint at #{bad.seq} is invalid: {bad.reason}.",
        )
        for bad in report.bad_checkpoints
    ]
    if report.chain_intact:
        return rows
    ctx.chain["broken_seq"] = report.broken_seq
    return [
        _row(
            "ledger.journal.chain",
            "journal_transaction",
            report.broken_id,
            "",
            "",
            None,
            f"Chain broken at transaction #{report.broken_seq}: {report.reason}.",
        ),
        *rows,
    ]


def _checkpoint(checkpoint: Checkpoint | None) -> dict[str, object] | None:
    if checkpoint is None:
        return None
    fields = checkpoints.as_dict(checkpoint)
    return {key: fields[key] for key in ("seq", "hash", "created_at", "key_id", "signature")}


def _voided_uses(ctx: _Context) -> list[dict]:
    """Uses of the period voided by the moment the report is made: who, when and why."""
    uses = consent_selectors.voided(
        ctx.all_uses().filter(starts_at__gte=ctx.start, starts_at__lt=ctx.end), as_of=ctx.as_of
    )
    return [
        _use_row(
            use,
            ["ai_use.void"],
            f"recorded as {use.status}; voided {use.void.voided_at.astimezone(UTC):%Y-%m-%d %H:%M}"
            f" UTC by {use.void.actor.get_username()}: {use.void.reason}",
        )
        for use in uses.select_related("void__actor").order_by("starts_at", "id")
    ]


BUILDERS = {
    "violations": _violations,
    "planned_uses_not_covered": _planned_uses_not_covered,
    "consents_expiring": _consents_expiring,
    "uses_after_withdrawal": _uses_after_withdrawal,
    "missing_wga_disclosures": _missing_wga_disclosures,
    "missing_union_notices": _missing_union_notices,
    "state_law": _state_law,
    "held_lines": _held_lines,
    "overdue_payables": _overdue_payables,
    "needs_confirmation": _needs_confirmation,
    "warnings": _warnings,
    "rate_missing": _rate_missing,
    "below_scale": _below_scale,
    "background_headcount": _background_headcount,
    "flagged_for_follow_up": _flagged_for_follow_up,
    "ledger_chain": _ledger_chain,
    "voided_uses": _voided_uses,
}
