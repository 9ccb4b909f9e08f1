"""The residual rules (RULES.md §3 Residuals) as data: every file in `residual_cases/` holds the
cases of one rule id. A case is a what-if body exactly as `manage.py residuals` takes it (the
schedule inside it), a `why` giving the arithmetic that yields every expected figure, and what
`residuals(body).as_dict()` must return.

How a case is compared (`expect`; `lines`, `total` and `exceptions` are required):
- `lines`: the lines of the file's rule, in the order returned, exactly as many (`[]`: none);
  for a rule that only supplies a factor (a credit share, a performer's residual days), the
  lines that used a factor of that rule. Each line is compared on the keys it gives only.
- `other_lines` (optional): {rule: [lines]}, the same comparison for the lines of other rules.
- `total`: {currency: amount}, equal to the whole total ({} when nothing is owed).
- `exceptions`: every exception, exactly as many, order-insensitive; each compared on the keys
  it gives (code, rule, parameter, date).
Values: `quantity` and `amount` compare as decimals; `flags` as a set, complete; `factors` as
the set of the factor names used, complete; `due` is the due date; `payee` is {kind, id};
everything else for equality. No database: the engine is pure."""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from compensation.rules.residuals.engine import residuals
from compensation.rules.rule_book import RESIDUAL_RULES

CASES_DIR = Path(__file__).parent / "residual_cases"

# The residual rule ids of RULES.md §3 (kept here: the domain notes are outside the repository).
RULE_IDS = (
    "sag.residual.replica_days",
    "sag.residual.hbsvod",
    "wga.residual.hbsvod",
    "wga.residual.success_bonus",
    "sag.residual.success_bonus",
    "wga.residual.credit_share",
    "residual.gross_receipts",
    "residual.ph",
    "residual.due",
)
# Rules that give a factor of other rules' lines rather than lines of their own.
FACTOR_RULES = {"sag.residual.replica_days", "wga.residual.credit_share"}
DECIMAL_KEYS = {"quantity", "amount"}
SET_KEYS = {"flags", "factors"}
LINE_KEYS = {
    "rule",
    "territory",
    "market",
    "date",
    "quantity",
    "unit",
    "amount",
    "currency",
    "payee",
    "due",
    "tier",
    "flags",
    "factors",
    "on_behalf_of",
}
EXCEPTION_KEYS = {"code", "rule", "parameter", "date"}


def _files() -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(CASES_DIR.glob("*.json"))
    }


def _case_params():
    return [
        pytest.param(data["rule"], case, id=f"{data['rule']}: {case['name']}")
        for data in _files().values()
        for case in data["cases"]
    ]


def _actual(item: dict, key: str):
    value = item.get(key)
    if key == "due":
        return value["date"]
    if key == "factors":
        return sorted(factor["parameter"] for factor in value)
    if key == "flags":
        return sorted(value)
    if key in DECIMAL_KEYS:
        return Decimal(value)
    return value


def _wanted(key: str, value):
    if key in SET_KEYS:
        return sorted(value)
    if key in DECIMAL_KEYS:
        return Decimal(value)
    return value


def _differences(what: str, actual: list[dict], expected: list[dict]) -> list[str]:
    if len(actual) != len(expected):
        return [f"{what}: {len(actual)} returned, {len(expected)} expected"]
    problems = []
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        for key, value in want.items():
            if _actual(got, key) != _wanted(key, value):
                problems.append(f"{what}[{i}].{key}: got {_actual(got, key)}, expected {value}")
    return problems


def _of(lines: list[dict], rule: str) -> list[dict]:
    if rule in FACTOR_RULES:
        return [line for line in lines if any(f["rule"] == rule for f in line["factors"])]
    return [line for line in lines if line["rule"] == rule]


@pytest.mark.parametrize(("rule", "case"), _case_params())
def test_residual_case(rule, case):
    expect = case["expect"]
    out = residuals(case["input"]).as_dict()
    problems = _differences(f"lines of {rule}", _of(out["lines"], rule), expect["lines"])
    for other, lines in expect.get("other_lines", {}).items():
        problems += _differences(f"lines of {other}", _of(out["lines"], other), lines)
    total = {t["currency"]: Decimal(t["amount"]) for t in out["total"]}
    if total != {c: Decimal(a) for c, a in expect["total"].items()}:
        problems.append(f"total: got {total}, expected {expect['total']}")
    left = list(out["exceptions"])
    if len(left) != len(expect["exceptions"]):
        problems.append(f"exceptions: got {left}, expected {expect['exceptions']}")
    for want in expect["exceptions"]:
        match = next((e for e in left if all(e.get(k) == v for k, v in want.items())), None)
        if match is None:
            problems.append(f"exceptions: none matches {want} in {left}")
        else:
            left.remove(match)
    explain = json.dumps(out, indent=1, ensure_ascii=False)
    assert not problems, "\n".join([*problems, f"why: {case['why']}", explain])


# --- the case files themselves --------------------------------------------------------------


def test_every_residual_rule_has_a_case_file_with_lines():
    files = _files()
    problems = []
    for rule in RULE_IDS:
        data = files.get(rule)
        if data is None:
            problems.append(f"{rule}: no residual_cases/{rule}.json")
        elif data.get("rule") != rule:
            problems.append(f"{rule}: the file says rule {data.get('rule')!r}")
        elif not any(
            case["expect"]["lines"] or case["expect"].get("other_lines") for case in data["cases"]
        ):
            problems.append(f"{rule}: no case that expects a line")
    assert not problems, problems
    assert set(files) == set(RULE_IDS)


def test_the_rule_ids_are_the_rule_books():
    assert set(RULE_IDS) == {rule.id for rule in RESIDUAL_RULES}


def test_every_case_file_has_only_known_keys():
    problems = []
    for name, data in _files().items():
        for case in data["cases"]:
            where = f"{name}: {case.get('name')}"
            if set(case) - {"name", "why", "input", "expect"}:
                problems.append(f"{where}: keys {sorted(case)}")
            lines = [*case["expect"]["lines"]]
            for other in case["expect"].get("other_lines", {}).values():
                lines += other
            for line in lines:
                if set(line) - LINE_KEYS:
                    problems.append(f"{where}: line keys {sorted(set(line) - LINE_KEYS)}")
            for exception in case["expect"]["exceptions"]:
                if set(exception) - EXCEPTION_KEYS:
                    problems.append(f"{where}: exception keys {sorted(exception)}")
    assert not problems, problems


def test_the_success_bonus_boundary_is_covered_both_ways():
    """0.2 exactly qualifies and just below does not, for each guild."""
    for rule in ("wga.residual.success_bonus", "sag.residual.success_bonus"):
        names = [case["name"] for case in _files()[rule]["cases"]]
        assert any("Exactly 0.2" in name for name in names), rule
        assert any("Just below 0.2" in name for name in names), rule


def test_the_engine_imports_no_django():
    """The residual package is pure: importing it loads no Django module."""
    code = (
        "import sys, compensation.rules.residuals.engine; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
