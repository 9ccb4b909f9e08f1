"""The compensation rules (RULES.md §3) as data: every file in `cases/` holds the cases of one rule
id. A case is a quote body exactly as POST /api/v1/compensation/quote/ (and `manage.py quote`)
takes it, optionally a `rate_sheet` (the values only a loaded official rate sheet supplies: the WGA
schedule of minimums, a local's IATSE wage schedule), a `why` giving the arithmetic from RULES.md
that yields every expected figure, and what `quote(body).as_dict()` must return.

A rate sheet entry is {"parameter", "value", "from", "until" (optional), "unit" (required for a
schedule that ships no series), "tier" (default P), "rule" (optional)}; the entries become
`params.Override`s on the shipped parameters (`Parameters.with_overrides`).

How a case is compared (`expect`; `lines`, `fringes`, `total` and `exceptions` are required):
- `lines`: the lines whose rule is the file's rule, in the order the quote returns them. Exactly
  as many as expected (`[]`: none), each compared on the keys it gives only.
- `other_lines` (optional): {rule: [lines]}, the same comparison for the lines of other rules,
  e.g. to show that a quote with a `rate_missing` still returns the rest.
- `fringes`: every fringe of the quote, in order, exactly as many; keys given only.
- `total`: {currency: amount}, equal to the quote's whole total ({} when it has none).
- `exceptions`: every exception of the quote, exactly as many, order-insensitive (their order
  follows the order the rules are computed in, which decides nothing); each compared on the keys
  it gives (code, rule, parameter, date).
Values: `quantity`, `rate`, `amount` and `base` compare as decimals ("2" equals "2.0"); `flags`
as a set, complete (`[]`: no flags); `parameters` as the set of parameter names the item used,
complete; everything else (date, tier, unit, episode, fund, currency, code, rule) for equality.

No database: `quote()` is pure.
"""

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from compensation.rules.params import Override, shipped
from compensation.rules.quote import quote

CASES_DIR = Path(__file__).parent / "cases"

# The rule ids of RULES.md §3 (kept here: the domain notes are outside the repository).
RULE_IDS = (
    "sag.pay.day",
    "sag.pay.weekly",
    "sag.pay.overtime",
    "sag.pay.meal_penalty",
    "sag.pay.ebdr_creation",
    "sag.pay.ebdr_use",
    "sag.pay.bargained_use",
    "sag.ph",
    "wga.pay.first_writer",
    "wga.pay.minimum",
    "wga.ph",
    "iatse.pay.hourly",
    "iatse.pay.triple_time",
    "iatse.pay.rest_violation",
    "iatse.pay.seventh_day",
    "iatse.pay.meal_penalty",
    "iatse.pay.kit_rental_ai",
)

# Every dated parameter a rule uses: (rule, what the quote body must match, effective dates). The
# rule's file needs a case dated on each date and one dated the day before.
SAG_RAISES = (
    "2023-11-09",
    "2024-07-01",
    "2025-07-01",
    "2026-07-01",
    "2027-07-01",
    "2028-07-01",
    "2029-07-01",
)
WGA_RAISES = ("2026-05-02", "2027-05-02", "2028-05-02", "2029-05-02")
DATE_BOUNDARIES = (
    ("sag.pay.day", {"classification": "day_performer"}, SAG_RAISES),
    ("sag.pay.day", {"classification": "background"}, SAG_RAISES),
    ("sag.pay.day", {"classification": "stand_in"}, SAG_RAISES),
    ("sag.pay.weekly", {"classification": "weekly_performer"}, SAG_RAISES),
    ("sag.pay.overtime", {"classification": "day_performer"}, ("2024-07-01",)),  # money break
    ("sag.pay.ebdr_creation", {}, ("2023-11-09",)),  # the convenience session (T)
    ("sag.pay.bargained_use", {}, ("2023-11-09",)),  # one day minimum
    ("sag.pay.bargained_use", {}, ("2026-07-01",)),  # the ICDR minimum (sag-tvth-2026)
    ("sag.ph", {"production_kind": "theatrical"}, ("2026-07-01",)),  # needs confirmation
    ("sag.ph", {"production_kind": "television", "episode_minutes": 30}, ("2024-07-01",)),
    ("sag.ph", {"production_kind": "television", "episode_minutes": 60}, ("2024-07-01",)),
    ("sag.ph", {"production_kind": "television", "episode_minutes": 90}, ("2024-07-01",)),
    ("sag.ph", {"production_kind": "television", "episode_minutes": 120}, ("2024-07-01",)),
    ("wga.ph", {}, ("2024-05-02", "2026-05-02", "2027-05-02")),  # the Health Fund rate
    ("wga.ph", {"production_kind": "theatrical"}, ("2026-05-02", "2028-05-02")),  # the ceiling
    ("wga.pay.minimum", {}, WGA_RAISES),  # the derived minimum
    ("iatse.pay.triple_time", {}, ("2024-08-04",)),
    ("iatse.pay.rest_violation", {}, ("2024-08-04",)),
    ("iatse.pay.seventh_day", {}, ("2024-08-04",)),
)

CASE_KEYS = {"name", "why", "quote", "expect"}
EXPECT_KEYS = {"lines", "fringes", "total", "exceptions"}
LINE_KEYS = {
    "rule",
    "date",
    "quantity",
    "unit",
    "rate",
    "amount",
    "currency",
    "tier",
    "flags",
    "parameters",
    "episode",
}
FRINGE_KEYS = {
    "rule",
    "fund",
    "base",
    "rate",
    "amount",
    "currency",
    "date",
    "tier",
    "flags",
    "parameters",
}
EXCEPTION_KEYS = {"code", "rule", "parameter", "date"}
SHEET_KEYS = {"parameter", "value", "from", "until", "unit", "tier", "rule"}
DECIMAL_KEYS = {"quantity", "rate", "amount", "base"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _files() -> list[dict]:
    return [_load(path) for path in sorted(CASES_DIR.glob("*.json"))]


def _case_params():
    return [
        pytest.param(data["rule"], case, id=f"{data['rule']}: {case['name']}")
        for data in _files()
        for case in data["cases"]
    ]


def _parameters(case: dict):
    sheet = case.get("rate_sheet")
    if not sheet:
        return None
    return shipped().with_overrides(
        Override(
            parameter=entry["parameter"],
            effective_from=date.fromisoformat(entry["from"]),
            until=date.fromisoformat(entry["until"]) if entry.get("until") else None,
            value=Decimal(entry["value"]),
            tier=entry.get("tier", "P"),
            source=f"rule case: {case['name']}",
            sheet="rule-cases",
            unit=entry.get("unit", ""),
            rule=entry.get("rule", ""),
        )
        for entry in sheet
    )


def _project(item: dict, wanted: dict) -> dict:
    """`item` reduced to the keys of `wanted`, in the form they are compared in."""
    out = {}
    for key in wanted:
        value = item.get(key)
        if key in DECIMAL_KEYS and value is not None:
            value = Decimal(value)
        elif key == "flags":
            value = sorted(value or [])
        elif key == "parameters":
            value = sorted(p["parameter"] for p in value or [])
        out[key] = value
    return out


def _normal(wanted: dict) -> dict:
    return {
        key: (
            Decimal(value)
            if key in DECIMAL_KEYS and value is not None
            else sorted(value)
            if key in ("flags", "parameters")
            else value
        )
        for key, value in wanted.items()
    }


def _compare_in_order(what: str, actual: list[dict], expected: list[dict]) -> list[str]:
    if len(actual) != len(expected):
        return [f"{what}: {len(actual)} returned, {len(expected)} expected"]
    return [
        f"{what}[{i}]: got {_project(got, want)}, expected {_normal(want)}"
        for i, (got, want) in enumerate(zip(actual, expected, strict=True))
        if _project(got, want) != _normal(want)
    ]


def _compare_unordered(what: str, actual: list[dict], expected: list[dict]) -> list[str]:
    if len(actual) != len(expected):
        return [f"{what}: {len(actual)} returned, {len(expected)} expected"]
    left = list(actual)
    problems = []
    for want in expected:
        match = next((got for got in left if _project(got, want) == _normal(want)), None)
        if match is None:
            problems.append(f"{what}: none matches {_normal(want)}")
        else:
            left.remove(match)
    return problems


@pytest.mark.parametrize(("rule", "case"), _case_params())
def test_rule_case(rule, case):
    expect = case["expect"]
    out = quote(case["quote"], _parameters(case)).as_dict()
    explain = json.dumps({k: out[k] for k in ("lines", "fringes", "total", "exceptions")}, indent=1)

    def of(name):
        return [line for line in out["lines"] if line["rule"] == name]

    problems = _compare_in_order(f"lines of {rule}", of(rule), expect["lines"])
    for other, lines in expect.get("other_lines", {}).items():
        problems += _compare_in_order(f"lines of {other}", of(other), lines)
    problems += _compare_in_order("fringes", out["fringes"], expect["fringes"])
    total = {t["currency"]: Decimal(t["amount"]) for t in out["total"]}
    if total != {c: Decimal(a) for c, a in expect["total"].items()}:
        problems.append(f"total: got {total}, expected {expect['total']}")
    problems += _compare_unordered("exceptions", out["exceptions"], expect["exceptions"])
    assert not problems, "\n".join([*problems, f"why: {case['why']}", explain])


# --- the case files themselves --------------------------------------------------------------


def test_every_rule_has_a_case_file_with_a_case():
    problems = []
    files = {path.stem: _load(path) for path in CASES_DIR.glob("*.json")}
    for rule in RULE_IDS:
        if rule not in files:
            problems.append(f"{rule}: no cases/{rule}.json")
        elif files[rule].get("rule") != rule:
            problems.append(f"{rule}: the file says rule {files[rule].get('rule')!r}")
        elif not files[rule].get("cases"):
            problems.append(f"{rule}: no case")
        elif not any(
            case["expect"]["fringes" if rule.endswith(".ph") else "lines"]
            for case in files[rule]["cases"]
        ):
            problems.append(f"{rule}: no case where the rule produces a line (a fringe for P&H)")
    unknown = sorted(set(files) - set(RULE_IDS))
    if unknown:
        problems.append(f"case files for unknown rule ids: {unknown}")
    assert not problems, "\n".join(problems)


def test_case_files_are_well_formed():
    for data in _files():
        rule = data["rule"]
        assert set(data) == {"rule", "cases"}, rule
        names = [c["name"] for c in data["cases"]]
        assert len(names) == len(set(names)), f"{rule}: duplicate case names"
        for case in data["cases"]:
            where = f"{rule}: {case.get('name')}"
            assert CASE_KEYS <= set(case) <= CASE_KEYS | {"rate_sheet"}, where
            assert case["why"].strip(), where
            expect = case["expect"]
            assert EXPECT_KEYS <= set(expect) <= EXPECT_KEYS | {"other_lines"}, where
            lines = expect["lines"] + [
                line for group in expect.get("other_lines", {}).values() for line in group
            ]
            assert all(set(line) <= LINE_KEYS for line in lines), where
            assert all(line.get("rule", rule) == rule for line in expect["lines"]), where
            assert set(expect.get("other_lines", {})) <= set(RULE_IDS) | {"other_pay"}, where
            assert rule not in expect.get("other_lines", {}), where
            assert all(set(f) <= FRINGE_KEYS for f in expect["fringes"]), where
            for problem in expect["exceptions"]:
                assert "code" in problem and set(problem) <= EXCEPTION_KEYS, where
            for entry in case.get("rate_sheet", []):
                assert {"parameter", "value", "from"} <= set(entry) <= SHEET_KEYS, where
            for value in expect["total"].values():
                assert Decimal(value) == Decimal(value).quantize(Decimal("0.01")), where


def _dates(body: dict) -> set[str]:
    dates = {
        item["date"]
        for key in ("work_days", "scans", "replica_uses", "deliveries", "other_pay")
        for item in body.get(key) or []
    }
    kit = body.get("ai_kit_rental") or {}
    return dates | ({kit["date"]} if kit.get("date") else set())


def _day_before(on: str) -> str:
    return (date.fromisoformat(on) - timedelta(days=1)).isoformat()


def test_every_effective_date_has_a_case_on_it_and_on_the_day_before():
    files = {data["rule"]: data for data in _files()}
    missing = []
    for rule, match, dates in DATE_BOUNDARIES:
        cases = [
            case
            for case in files.get(rule, {}).get("cases", [])
            if all(case["quote"].get(k) == v for k, v in match.items())
        ]
        for on in dates:
            for day in (on, _day_before(on)):
                if not any(day in _dates(case["quote"]) for case in cases):
                    missing.append(f"{rule} {match}: no case dated {day}")
    assert not missing, "\n".join(missing)
