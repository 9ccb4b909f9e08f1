"""The quote: what is owed for a self-contained set of work, computed with no side effects.

`compute(QuoteInput, params)` is the calculator; `quote(body, params)` parses a JSON body first
(`quote_input.parse`) and is what the API's `compensation/quote/` and `manage.py quote` call.
Compensation runs build the `QuoteInput` from their records and call `compute`.

A quote that needs a missing rate still returns every line it can, plus a `rate_missing`
exception naming the parameter and date. The agreement version is chosen by the date of each
piece of work (RULES.md §1); a date outside the named agreement's term is an exception, not a
silent pick.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.registry.catalogue import AGREEMENTS

from . import iatse, sag, wga
from .lines import Line, Problem, Result
from .params import Parameters, shipped
from .quote_input import IatseWork, OtherPay, QuoteInput, SagWork, WgaWork, parse


@dataclass(frozen=True)
class Quote:
    result: Result
    version: str

    def as_dict(self) -> dict[str, Any]:
        total = self.result.total()
        return {
            "lines": [line.as_dict() for line in self.result.lines],
            "fringes": [fringe.as_dict() for fringe in self.result.fringes],
            "total": [{"currency": c, "amount": f"{a:.2f}"} for c, a in sorted(total.items())],
            "exceptions": [problem.as_dict() for problem in self.result.problems],
            "rules_version": self.version,
        }


def quote(body: object, params: Parameters | None = None) -> Quote:
    """Compute a quote from its JSON body; core.parse.ParseError names the faulty field."""
    return compute(parse(body), params)


def compute(given: QuoteInput, params: Parameters | None = None) -> Quote:
    """The quote of `given` at `params` (the shipped parameters by default)."""
    params = params or shipped()
    other_pay = [_other_pay_line(pay, given.currency) for pay in given.other_pay]
    work = given.work
    if isinstance(work, SagWork):
        result = _sag(given, work, params)
    elif isinstance(work, WgaWork):
        result = _wga(given, work, params, other_pay)
    else:
        result = _iatse(given, work, params)
    result.lines += other_pay
    result.problems += out_of_term(given.agreement, _work_dates(work))
    return Quote(result, params.version)


def _work_dates(work: SagWork | WgaWork | IatseWork) -> set[date]:
    """The dates of the pieces of work that pick the agreement version (RULES.md §1): the work
    date, the use date, the delivery date."""
    if isinstance(work, SagWork):
        return {
            *(day.on for day in work.work_days),
            *(scan.on for scan in work.scans),
            *(use.on for use in work.replica_uses),
        }
    if isinstance(work, WgaWork):
        return {delivery.on for delivery in work.deliveries}
    return {day.on for day in work.work_days}


def out_of_term(agreement: str, dates: Iterable[date]) -> list[Problem]:
    """An `agreement_out_of_term` exception for each date of work outside the named agreement's
    term (RULES.md §1), naming the version in force then, if any. The lines are still computed
    at the rates in force on their dates."""
    version = AGREEMENTS[agreement]
    start, end = version.effective_from, version.effective_to
    problems = []
    for on in sorted(set(dates)):
        if version.in_term(on):
            continue
        governing = [
            other.code
            for other in AGREEMENTS.values()
            if other.guild == version.guild and other.in_term(on)
        ]
        term = f"{start} to {end}" if end else f"from {start}"
        problems.append(
            Problem(
                "agreement_out_of_term",
                agreement,
                f"Work dated {on} is outside the term of {agreement} ({term}); "
                + (
                    f"{governing[0]} is in force then."
                    if governing
                    else "no agreement of RULES.md §1 for that guild is in force then."
                ),
                on=on,
            )
        )
    return problems


def _sag(given: QuoteInput, work: SagWork, params: Parameters) -> Result:
    performer = sag.Performer(
        classification=work.classification,
        rate=given.rate,
        production_kind=work.production_kind,
        episode_minutes=work.episode_minutes,
        params=params,
        prior_covered=dict(work.prior_covered),
    )
    return sag.compute(
        performer,
        work_days=list(work.work_days),
        replica_uses=list(work.replica_uses),
        scans=list(work.scans),
    )


def _wga(given: QuoteInput, work: WgaWork, params: Parameters, other_pay: list[Line]) -> Result:
    writer = wga.Writer(
        params=params,
        production_kind=work.production_kind,
        currency=given.currency,
        deliveries=list(work.deliveries),
        prior_covered=work.prior_covered,
    )
    return wga.compute(writer, pay=other_pay)


def _iatse(given: QuoteInput, work: IatseWork, params: Parameters) -> Result:
    employee = iatse.Employee(
        classification=work.classification,
        rate=given.rate,
        params=params,
        kit_rental=work.kit_rental,
    )
    return iatse.compute(employee, work_days=list(work.work_days))


def _other_pay_line(pay: OtherPay, currency: str) -> Line:
    return Line(
        rule="other_pay",
        description=pay.description,
        on=pay.on,
        quantity=Decimal(1),
        unit="flat",
        rate=pay.amount,
        currency=currency,
    )
