"""Each staff user's open items: what is waiting on them, group by group, each item linking to
the admin page where it is resolved.

The groups follow who resolves what:

- for studio staff and guild staff (each as the admin lists scope them):
  - AI uses recorded as violations that no hold resolution has answered yet;
  - consents in force whose term ends within the compliance report's window (30 days);
  - flags for follow-up still open: raised by the user's guild, or about a production of the
    user's studio;
- for studio staff (they approve runs and pay), of their studios' productions only:
  - runs (pay and residual) computed and awaiting approval whose review still has items no one
    has acknowledged (compensation.review: every exception, every group of lines resting on an
    unverified or derived figure);
  - runs awaiting approval with exceptions (what could not be computed);
  - runs computed or approved before a newer rate sheet that gives a value for a date of their
    period, not yet run again (compensation.services.rate_sheet_runs_to_recompute, as the rate
    sheet's own page lists them, for the latest version of each sheet);
  - payables past their due date with an amount still due (the compliance report's rule);
  - consent requests sent and not yet signed or declined, those whose link expired included.

Administrators see every group over everything. Each group is counted in full and lists its
first `limit` items (MAX_ITEMS on the page; the notification scan asks for more); each group
costs a fixed handful of queries, except the runs to recompute, which costs one more query per
run found (the rate sheet page's own helper).

Each item carries a stable key naming its group and its record, so that reports.notifications
tells a user of it once.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from compensation import review
from compensation import selectors as compensation_selectors
from compensation import services as compensation_services
from compensation.models import CompensationLine, CompensationRun, RateSheet, ResidualLine
from compensation.models.pay import RunAcknowledgement
from compensation.residuals import selectors as residual_selectors
from consent import requests as consent_requests
from consent import selectors as consent_selectors
from consent.models import AiUse, Consent, ConsentRequest
from core.money import money_display
from ledger import access
from ledger.access import Scope
from ledger.journal.services import fund_title
from ledger.models import Payable, Production

from . import compliance, selectors

MAX_ITEMS = 20

# Every group, by its key, with its title, in the page's order.
TITLES = {
    "violations": "Violations to resolve",
    "expiring_consents": "Consents expiring",
    "flags": "Flags open",
    "runs_to_review": "Runs to review",
    "runs_with_exceptions": "Runs with exceptions",
    "runs_to_recompute": "Runs to recompute",
    "overdue_payables": "Payables overdue",
    "consent_requests": "Consent requests unanswered",
}


@dataclass(frozen=True)
class OpenItem:
    """One item: its text, the admin path where it is resolved, and a key naming it for good
    (`<group>:<record>:<id>`, e.g. `violations:ai_use:12`), the same on every computation, so
    that a user is notified of it once (reports.notifications)."""

    text: str
    url: str
    key: str

    @property
    def kind(self) -> str:
        """The key's group (what a user may mute)."""
        return self.key.partition(":")[0]


@dataclass
class OpenItemGroup:
    key: str
    title: str
    help: str
    count: int
    items: list[OpenItem] = field(default_factory=list)
    # The admin list of all of them, where its filters select exactly the group's rows.
    list_url: str | None = None

    @property
    def more(self) -> int:
        return self.count - len(self.items)


def _change_url(name: str, pk: int) -> str:
    return reverse(f"admin:{name}_change", args=[pk])


def _list_url(name: str, **params: Any) -> str:
    return reverse(f"admin:{name}_changelist") + "?" + urlencode(params)


def _run_url(run: CompensationRun) -> str:
    name = "residualrun" if run.kind == CompensationRun.Kind.RESIDUALS else "compensationrun"
    return _change_url(f"compensation_{name}", run.pk)


def _run_text(run: CompensationRun) -> str:
    kind = "Residual run" if run.kind == CompensationRun.Kind.RESIDUALS else "Pay run"
    return f"{kind} #{run.pk}, {run.production.title}, {run.period_from} – {run.period_to}"


def _studio_side(scope: Scope) -> Scope | None:
    """The scope of what the caller resolves as studio staff: their studios only (not what
    they see as guild staff); None when they are no studio's staff."""
    if scope.superuser:
        return scope
    if not scope.studio_ids:
        return None
    return Scope(studio_ids=scope.studio_ids)


def open_items(scope: Scope, *, now: datetime, limit: int | None = None) -> list[OpenItemGroup]:
    """The caller's open items, group by group (see the module's docstring), each group listing
    its first `limit` items (MAX_ITEMS unless given)."""
    if scope.is_empty or scope.payroll_key is not None:
        return []
    limit = MAX_ITEMS if limit is None else limit
    groups = [
        _violations(scope, limit),
        _expiring_consents(scope, now, limit),
        _open_flags(scope, limit),
    ]
    studio = _studio_side(scope)
    if studio is not None:
        computed = _computed_runs(studio)
        groups += [
            _runs_to_acknowledge(computed, limit),
            _runs_with_exceptions(computed, limit),
            _runs_to_recompute(studio, limit),
            _overdue_payables(studio, now, limit),
            _unanswered_requests(studio, now, limit),
        ]
    return groups


# --- for studio and guild staff ---------------------------------------------------------------


def _violations(scope: Scope, limit: int) -> OpenItemGroup:
    qs = consent_selectors.ai_uses(
        scope,
        consent_selectors.not_voided(
            AiUse.objects.filter(status=AiUse.Status.VIOLATION, hold_resolution__isnull=True)
        ),
    )
    items = [
        OpenItem(
            f"AI use #{use.pk}: {use.get_kind_display()}"
            + (f" of {use.person}" if use.person_id else "")
            + f" in {use.production.title}"
            + (f", {use.starts_at:%Y-%m-%d}" if use.starts_at else ""),
            _change_url("consent_aiuse", use.pk),
            f"violations:ai_use:{use.pk}",
        )
        for use in qs.select_related("person", "production").order_by("starts_at", "id")[:limit]
    ]
    return OpenItemGroup(
        "violations",
        TITLES["violations"],
        "AI uses recorded as violations with no hold resolution yet: release their lines for "
        "payment or void them, or obtain the consent.",
        qs.count(),
        items,
    )


def _expiring_consents(scope: Scope, now: datetime, limit: int) -> OpenItemGroup:
    window = compliance.EXPIRY_WINDOW
    qs = consent_selectors.consents(
        scope, consent_selectors.consents_expiring(Consent.objects.all(), now=now, within=window)
    )
    items = [
        OpenItem(
            f"{consent.get_kind_display()} consent #{consent.pk} of {consent.person} for "
            f"{consent.production.title}: ends {consent.term_to}",
            _change_url("consent_consent", consent.pk),
            f"expiring_consents:consent:{consent.pk}",
        )
        for consent in qs.select_related("person", "production").order_by("term_to", "id")[:limit]
    ]
    return OpenItemGroup(
        "expiring_consents",
        TITLES["expiring_consents"],
        f"Consents in force whose term ends within {window.days} days.",
        qs.count(),
        items,
        _list_url("consent_consent", expiring=window.days),
    )


def _open_flags(scope: Scope, limit: int) -> OpenItemGroup:
    qs = selectors.open_flags(scope)
    title = Production.objects.filter(pk=OuterRef("subject_production_id")).values("title")
    rows = qs.annotate(subject_title=Subquery(title)).select_related("guild")
    items = []
    for flag in rows.order_by("created_at", "id")[:limit]:
        note = flag.note if len(flag.note) <= 80 else flag.note[:79] + "…"
        items.append(
            OpenItem(
                f"Flag #{flag.pk} ({flag.guild.code}) on {flag.target_label} in "
                f"{flag.subject_title}: {note}",
                _change_url("reports_flag", flag.pk),
                f"flags:flag:{flag.pk}",
            )
        )
    return OpenItemGroup(
        "flags",
        TITLES["flags"],
        "Flags for follow-up raised by your guild, or about your studio's productions: resolve "
        "each with a note.",
        qs.count(),
        items,
        _list_url("reports_flag", status="open"),
    )


# --- for studio staff -------------------------------------------------------------------------


def _computed_runs(scope: Scope) -> list[CompensationRun]:
    """The pay and residual runs awaiting approval, as their admin lists scope them."""
    pay = compensation_selectors.runs(scope).values("pk")
    residual = residual_selectors.runs(scope).values("pk")
    return list(
        CompensationRun.objects.filter(status=CompensationRun.Status.COMPUTED)
        .filter(Q(pk__in=pay) | Q(pk__in=residual))
        .select_related("production")
        .order_by("started_at", "id")
    )


def _unacknowledged(runs: list[CompensationRun]) -> dict[int, int]:
    """{run: number of items of its review (compensation.review.items, as its studio staff
    see them) not yet acknowledged}, for all the runs at once: the items' keys are built with
    review's own key functions from the runs' exceptions and their lines needing confirmation,
    with one query for the acknowledgements and one per kind of line."""
    if not runs:
        return {}
    ids = [run.pk for run in runs]
    expected: dict[int, set[str]] = {
        run.pk: {review.exception_key(i, e) for i, e in enumerate(run.exceptions or [])}
        for run in runs
    }
    pay_lines: QuerySet[Any] = CompensationLine.objects.filter(run_id__in=ids).exclude(
        status=CompensationLine.Status.VOID
    )
    residual_lines: QuerySet[Any] = ResidualLine.objects.filter(run_id__in=ids)
    for lines in (pay_lines, residual_lines):
        confirm = review._flagged(lines, review.CONFIRM_FLAG).order_by()
        for run_id, rule, tier in confirm.values_list("run_id", "rule", "tier").distinct():
            expected[run_id].add(review.confirm_key(rule, tier))
    done = RunAcknowledgement.objects.filter(run_id__in=ids).values_list("run_id", "key")
    for run_id, key in done:
        expected[run_id].discard(key)
    return {pk: len(keys) for pk, keys in expected.items() if keys}


def _runs_to_acknowledge(runs: list[CompensationRun], limit: int) -> OpenItemGroup:
    waiting = _unacknowledged(runs)
    found = [run for run in runs if run.pk in waiting]
    items = [
        OpenItem(
            f"{_run_text(run)}: {waiting[run.pk]} item(s) of its review to acknowledge",
            _run_url(run),
            f"runs_to_review:run:{run.pk}",
        )
        for run in found[:limit]
    ]
    return OpenItemGroup(
        "runs_to_review",
        TITLES["runs_to_review"],
        "Runs computed and awaiting approval whose review has items no one has acknowledged "
        "yet; a run is approved once every item is.",
        len(found),
        items,
    )


def _runs_with_exceptions(runs: list[CompensationRun], limit: int) -> OpenItemGroup:
    found = [run for run in runs if run.exceptions]
    items = [
        OpenItem(
            f"{_run_text(run)}: {len(run.exceptions)} exception(s)",
            _run_url(run),
            f"runs_with_exceptions:run:{run.pk}",
        )
        for run in found[:limit]
    ]
    return OpenItemGroup(
        "runs_with_exceptions",
        TITLES["runs_with_exceptions"],
        "Runs awaiting approval with something that could not be computed (a missing rate, "
        "say): correct the records and run the period again, or acknowledge it.",
        len(found),
        items,
    )


def _latest_sheets(scope: Scope) -> list[RateSheet]:
    """The latest version of each rate sheet of an agreement attached to a production in
    scope."""
    agreements = access.productions(scope).values("agreements")
    sheets = compensation_selectors.rate_sheets(
        scope, RateSheet.objects.filter(agreement__in=agreements)
    ).order_by("agreement_id", "name", "-version", "-id")
    latest: dict[tuple[int, str], RateSheet] = {}
    for sheet in sheets:
        latest.setdefault((sheet.agreement_id, sheet.name), sheet)
    return sorted(latest.values(), key=lambda s: (s.loaded_at, s.pk))


def _runs_to_recompute(scope: Scope, limit: int) -> OpenItemGroup:
    visible = CompensationRun.objects.filter(production__in=access.productions(scope))
    found: dict[int, tuple[CompensationRun, RateSheet]] = {}
    for sheet in _latest_sheets(scope):
        for item in compensation_services.rate_sheet_runs_to_recompute(sheet, visible):
            if item.rerun is None:
                found.setdefault(item.run.pk, (item.run, sheet))
    ordered = sorted(found.values(), key=lambda pair: (pair[0].started_at, pair[0].pk))
    items = [
        OpenItem(
            f"{_run_text(run)}: computed before {sheet.name} v{sheet.version} was loaded",
            _change_url("compensation_ratesheet", sheet.pk) + "#runs-to-recompute",
            f"runs_to_recompute:run:{run.pk}:sheet:{sheet.pk}",
        )
        for run, sheet in ordered[:limit]
    ]
    return OpenItemGroup(
        "runs_to_recompute",
        TITLES["runs_to_recompute"],
        "Runs computed or approved before a rate sheet was loaded that gives a value for a "
        "date of their period: rerun them from the sheet's page.",
        len(ordered),
        items,
    )


def _overdue_payables(scope: Scope, now: datetime, limit: int) -> OpenItemGroup:
    past_due = compliance.past_due_payables(scope, Payable.objects.all(), now.date())
    due = {
        row["payable_id"]: amount
        for row, _owed, amount in compliance.overdue_amounts(compliance.overdue_sums(past_due))
    }
    payables = (
        Payable.objects.filter(pk__in=list(due))
        .select_related("person", "production")
        .order_by("due_date", "id")[:limit]
    )
    items = [
        OpenItem(
            f"{payable.person or fund_title(payable.fund)}, {payable.production.title}: "
            f"{money_display(due[payable.pk], payable.currency)} due since {payable.due_date}",
            _change_url("ledger_payable", payable.pk),
            f"overdue_payables:payable:{payable.pk}",
        )
        for payable in payables
    ]
    return OpenItemGroup(
        "overdue_payables",
        TITLES["overdue_payables"],
        "Payables past their due date with an amount still due.",
        len(due),
        items,
        _list_url("ledger_payable", standing="overdue"),
    )


def _unanswered_requests(scope: Scope, now: datetime, limit: int) -> OpenItemGroup:
    waiting = [*consent_requests.OPEN, ConsentRequest.Status.EXPIRED]
    qs = consent_selectors.consent_requests(scope).filter(status__in=waiting)
    items = []
    for request in qs.select_related("person", "production").order_by("sent_at", "id")[:limit]:
        expired = consent_requests.effective_status(request, now) == "expired"
        state = "link expired" if expired else f"sent {request.sent_at:%Y-%m-%d}"
        items.append(
            OpenItem(
                f"Consent request #{request.pk} ({request.get_kind_display()}) to "
                f"{request.person} for {request.production.title}: {state}",
                _change_url("consent_consentrequest", request.pk),
                f"consent_requests:consent_request:{request.pk}",
            )
        )
    return OpenItemGroup(
        "consent_requests",
        TITLES["consent_requests"],
        "Consent requests sent and not yet signed or declined: send a reminder, or withdraw them.",
        qs.count(),
        items,
    )
