"""The consent check's dated parameters: its fixed periods (the notice before a scan, the years of
the state statutes and of the NO FAKES advisory) and the dates from which each statute applies,
read from `consent/parameters.json` with `core.dated` as of the date a rule looks at."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from core.dated import DatedParameters
from core.dated import load as load_parameters

# consent/parameters.json: beside the package, where it has always been.
PARAMETERS_FILE = Path(__file__).parent.with_name("parameters.json")


@dataclass(frozen=True)
class RuleParameters:
    """The check's dated parameters (PARAMETERS_FILE, or a given set) as of `on`, the use's date.
    A value is read when a rule needs it; a date no value covers raises core.dated.ValueMissing
    (a period or a statute's date is never guessed)."""

    on: date
    values: DatedParameters

    @classmethod
    def as_of(cls, on: date, parameters: DatedParameters | None = None) -> "RuleParameters":
        """The parameters in force on `on`, from `parameters` or the shipped file."""
        return cls(on, shipped_parameters() if parameters is None else parameters)

    @property
    def notice_before_scan(self) -> timedelta:
        """sag.consent.notice_48h."""
        hours = self.values.get("sag.consent.notice_before_scan", self.on).value
        return timedelta(seconds=int(hours * 3600))  # whole seconds, exactly

    def years(self, parameter: str) -> int:
        """A period in whole years in force on `on` (law.ca.civ3344_1, law.us.no_fakes)."""
        return int(self.values.get(parameter, self.on).value)

    def in_force(self, parameter: str, day: date) -> bool:
        """Whether the statute a `<rule>.in_force` series dates reaches `day` (value 1 from the
        statute's date, 0 before)."""
        return self.values.get(parameter, day).value == 1


@cache
def shipped_parameters() -> DatedParameters:
    """The parameters shipped beside this package (PARAMETERS_FILE), loaded once."""
    return load_parameters(PARAMETERS_FILE)


def statute_start(rule: str, parameters: DatedParameters | None = None) -> date | None:
    """The first date from which `<rule>.in_force` says the statute applies (as the admin's help
    states it); None when the series never does."""
    series = (parameters or shipped_parameters()).series[f"{rule}.in_force"]
    return next((e.effective_from for e in series.entries if e.value == 1), None)


def shipped_years(parameter: str, on: date) -> int:
    """A period in whole years of the shipped parameters in force on `on`."""
    return RuleParameters.as_of(on).years(parameter)
