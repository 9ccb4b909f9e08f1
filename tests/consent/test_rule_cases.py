"""The consent rules (RULES.md §2) as data: every file in `cases/` holds the cases of one rule id,
each a what-if scenario (as `consent.whatif.decide` and `manage.py consent_check` take it) and the
decision expected of `consent.rules.check`.

How a case is compared:
- `allowed` and `consent` (the id of the consent relied on, or null) must be equal.
- A refusal: `expect.rules` is the exact set of failed rules the check returns. The comparison is
  order-insensitive (sorted lists): the order only follows the order in which rules are checked,
  which says nothing about the decision.
- An allowance: every id in `expect.rules` must be among the decision's rules (the rules that
  passed), and so must the file's own rule id, unless the case lists it under `expect.absent`,
  the rules that must *not* appear (e.g. a 2026-only rule on a 2023 use), or the rule is advisory
  (it speaks only in warnings).
- `expect.warnings`, when present, is the exact set of rule ids of the decision's warnings
  (order-insensitive); `[]` asserts there is none. An advisory rule's file has a case that
  expects its warning and one that expects none; a T-tier rule's file has a case expecting its
  needs-confirmation warning.

The rule cases need no database; the command tests at the end check that the command writes none.
"""

import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from consent import whatif
from core.parse import ParseError

CASES_DIR = Path(__file__).parent / "cases"

# The rule ids of RULES.md §2 (kept here: the domain notes are outside the repository).
RULE_IDS = (
    "sag.consent.creation",
    "sag.consent.notice_48h",
    "sag.consent.separate",
    "sag.consent.specific",
    "sag.consent.ebdr_use",
    "sag.consent.new_project",
    "sag.consent.icdr_use",
    "sag.consent.alteration",
    "sag.consent.synthetic",
    "sag.consent.deceased",
    "sag.consent.background",
    "sag.consent.strike",
    "sag.consent.scan_reason",
    "consent.revoked",
    "consent.term",
    "wga.disclosure",
    "wga.writer_use",
    "wga.training",
    "iatse.scan_consent",
    "iatse.no_displacing_prompts",
    "iatse.ai_impact_notice",
    "sag.consent.synthetic_value",
    "sag.consent.minor",
    "wga.training_notice",
    "law.ca.lab927",
    "law.ny.gol5_302",
    "law.il.dvlpa",
    "law.ca.civ3344_1",
    "law.ny.cr50f",
    "law.ny.gbl396b",
    "law.us.no_fakes",
)
# Rules that never refuse: they speak only in a decision's warnings.
ADVISORY_RULE_IDS = ("law.us.no_fakes",)
# Rules whose every decision carries a needs-confirmation warning (tier T).
TIER_T_RULE_IDS = ("sag.consent.minor",)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _case_params():
    params = []
    for path in sorted(CASES_DIR.glob("*.json")):
        data = _load(path)
        for case in data["cases"]:
            params.append(pytest.param(data["rule"], case, id=f"{data['rule']}::{case['name']}"))
    return params


@pytest.mark.parametrize(("rule", "case"), _case_params())
def test_rule_case(rule, case):
    expect = case["expect"]
    decision = whatif.decide(case["scenario"])
    explain = json.dumps(decision.as_dict(), indent=2)

    assert decision.allowed is expect["allowed"], explain
    assert decision.consent == expect["consent"], explain
    if expect["allowed"]:
        missing = set(expect["rules"]) - set(decision.rules)
        assert not missing, f"rules missing {sorted(missing)}\n{explain}"
        absent = set(expect.get("absent", ()))
        if rule not in absent and rule not in ADVISORY_RULE_IDS:
            assert rule in decision.rules, explain
        assert not absent & set(decision.rules), explain
    else:
        assert sorted(decision.rules) == sorted(expect["rules"]), explain
        # A refusal says why: at least one reason per failed rule.
        assert len(decision.reasons) >= len(decision.rules), explain
    if "warnings" in expect:
        assert sorted(w.rule for w in decision.warnings) == sorted(expect["warnings"]), explain


# --- the case files themselves --------------------------------------------------------------


def test_every_rule_has_a_case_file_with_an_allowed_and_a_refused_case():
    problems = []
    files = {path.stem: path for path in CASES_DIR.glob("*.json")}
    for rule in RULE_IDS:
        if rule not in files:
            problems.append(f"{rule}: no cases/{rule}.json")
            continue
        data = _load(files[rule])
        if data.get("rule") != rule:
            problems.append(f"{rule}: the file says rule {data.get('rule')!r}")
        cases = data.get("cases") or []
        if rule in ADVISORY_RULE_IDS or rule in TIER_T_RULE_IDS:
            problems += _warning_cases(rule, cases)
        if rule in ADVISORY_RULE_IDS:
            continue
        if not any(c["expect"]["allowed"] and rule in c["expect"]["rules"] for c in cases):
            problems.append(f"{rule}: no allowed case naming the rule")
        if not any(not c["expect"]["allowed"] and rule in c["expect"]["rules"] for c in cases):
            problems.append(f"{rule}: no refused case naming the rule")
    unknown = sorted(set(files) - set(RULE_IDS))
    if unknown:
        problems.append(f"case files for unknown rule ids: {unknown}")
    assert not problems, "\n".join(problems)


def _warning_cases(rule: str, cases: list[dict]) -> list[str]:
    """An advisory or T-tier rule: a case expecting its warning; an advisory one, a case expecting
    no warning of it too."""
    expecting = [c["expect"].get("warnings") for c in cases if "warnings" in c["expect"]]
    problems = []
    if not any(rule in warnings for warnings in expecting):
        problems.append(f"{rule}: no case expecting its warning")
    if rule in ADVISORY_RULE_IDS and not any(rule not in warnings for warnings in expecting):
        problems.append(f"{rule}: no case expecting no warning of it")
    return problems


def test_case_files_are_well_formed():
    for path in sorted(CASES_DIR.glob("*.json")):
        data = _load(path)
        assert set(data) == {"rule", "cases"}, path.name
        names = [c["name"] for c in data["cases"]]
        assert len(names) == len(set(names)), f"{path.name}: duplicate case names"
        for case in data["cases"]:
            assert set(case) == {"name", "scenario", "expect"}, (path.name, case["name"])
            assert set(case["expect"]) <= {"allowed", "rules", "consent", "absent", "warnings"}
            assert {"allowed", "rules", "consent"} <= set(case["expect"]), case["name"]
            if not case["expect"]["allowed"]:
                assert case["expect"]["consent"] is None, case["name"]
                assert case["expect"]["rules"], case["name"]
                assert "absent" not in case["expect"], case["name"]
            named = case["expect"]["rules"] + case["expect"].get("absent", [])
            for rule in named + case["expect"].get("warnings", []):
                assert rule in RULE_IDS, (path.name, case["name"], rule)
            # An advisory rule never decides: it is never among a decision's rules.
            assert not set(ADVISORY_RULE_IDS) & set(case["expect"]["rules"]), case["name"]


# --- whatif input validation ----------------------------------------------------------------


def _scenario(**changes) -> dict:
    """A scan that is allowed under sag-tvth-2023 (the first case of sag.consent.creation)."""
    base = _load(CASES_DIR / "sag.consent.creation.json")["cases"][0]["scenario"]
    scenario = json.loads(json.dumps(base))
    scenario.update(changes)
    return scenario


def test_the_base_scenario_is_allowed():
    decision = whatif.decide(_scenario())
    assert decision.allowed and decision.consent == "c1"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s.update(purpose="trailer"), "scenario"),
        (lambda s: s["use"].update(knd="replica_use"), "use"),
        (lambda s: s["person"].update(deceased="2024-01-01"), "person"),
        (lambda s: s["consents"][0].update(signed="2025-03-05"), "consents[0]"),
        (lambda s: s["use"].update(kind="hologram"), "use.kind"),
        (lambda s: s.update(at="2025-13-45T09:00:00Z"), "at"),
        (lambda s: s["consents"][0].update(term_to="31/12/2025"), "consents[0].term_to"),
        (lambda s: s["consents"][0].update(instrument="handshake"), "consents[0].instrument"),
        (lambda s: s["use"].update(alteration_exception="beautify"), "use.alteration_exception"),
        (lambda s: s.update(until="2025-03-12T08:00:00Z"), "until"),
        (lambda s: s.update(strikes=[{"guild": "teamsters", "from": "2025-01-01"}]), None),
    ],
)
def test_malformed_scenarios_are_refused_naming_the_field(mutate, field):
    scenario = _scenario()
    mutate(scenario)
    with pytest.raises(ParseError) as raised:
        whatif.decide(scenario)
    if field is not None:
        assert raised.value.field == field
    else:
        assert raised.value.field == "strikes[0].guild"


def test_unknown_field_is_named_in_the_message():
    scenario = _scenario()
    scenario["use"]["knd"] = "replica_use"
    with pytest.raises(ParseError, match="knd"):
        whatif.decide(scenario)


def test_naive_time_is_utc():
    assert whatif.instant("2025-03-12T09:00:00", "at") == datetime(2025, 3, 12, 9, tzinfo=UTC)
    # The same notice boundary as the case file, written without an offset: exactly 48 hours.
    scenario = _scenario(at="2025-03-12T09:00:00")
    scenario["consents"][0]["notice_at"] = "2025-03-10T09:00:00"
    assert whatif.decide(scenario).allowed
    scenario["consents"][0]["notice_at"] = "2025-03-10T09:00:01"
    decision = whatif.decide(scenario)
    assert not decision.allowed and decision.rules == ("sag.consent.notice_48h",)


def test_offset_time_is_converted_to_utc():
    assert whatif.instant("2025-03-12T11:00:00+02:00", "at") == datetime(2025, 3, 12, 9, tzinfo=UTC)


def test_date_only_at_is_start_of_day_utc():
    assert whatif.instant("2025-03-12", "at") == datetime(2025, 3, 12, 0, 0, tzinfo=UTC)
    # Revoked at midnight UTC: a use dated by that day alone is at the instant of revocation.
    scenario = _scenario(at="2025-03-12")
    scenario["consents"][0]["notice_at"] = "2025-03-10"
    scenario["consents"][0]["revoked_at"] = "2025-03-12T00:00:00Z"
    decision = whatif.decide(scenario)
    assert not decision.allowed and decision.rules == ("consent.revoked",)
    scenario["consents"][0]["revoked_at"] = "2025-03-12T00:00:01Z"
    assert whatif.decide(scenario).allowed


def test_a_missing_required_field_is_named():
    scenario = _scenario()
    del scenario["at"]
    with pytest.raises(ParseError) as raised:
        whatif.decide(scenario)
    assert raised.value.field == "at"


# --- the consent_check command --------------------------------------------------------------


def _write(tmp_path, scenario) -> str:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    return str(path)


def test_command_prints_the_decision(tmp_path):
    out = StringIO()
    call_command("consent_check", _write(tmp_path, _scenario()), stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["allowed"] is True
    assert printed["consent"] == "c1"
    assert printed["agreement"] == "sag-tvth-2023"
    assert "sag.consent.creation" in printed["rules"]
    assert set(printed) == {"allowed", "consent", "rules", "reasons", "agreement", "warnings"}
    assert printed["warnings"] == []


def test_command_exits_3_on_refusal_and_still_prints(tmp_path):
    scenario = _scenario()
    scenario["consents"][0]["instrument"] = "standard_terms"
    out = StringIO()
    with pytest.raises(SystemExit) as raised:
        call_command("consent_check", _write(tmp_path, scenario), stdout=out)
    assert raised.value.code == 3
    printed = json.loads(out.getvalue())
    assert printed["allowed"] is False
    assert printed["consent"] is None
    assert printed["rules"] == ["sag.consent.separate"]


@pytest.mark.parametrize(
    ("mutate", "named"),
    [
        (lambda s: s["use"].update(knd="replica_use"), "knd"),
        (lambda s: s.update(at="2025-02-30T09:00:00Z"), "at"),
        (lambda s: s["use"].update(kind="hologram"), "use.kind"),
        (lambda s: s["consents"][0].update(term_from="next spring"), "consents[0].term_from"),
    ],
    ids=["unknown key", "bad date", "unknown kind", "bad term date"],
)
def test_command_malformed_scenario_is_a_command_error_naming_the_field(tmp_path, mutate, named):
    scenario = _scenario()
    mutate(scenario)
    with pytest.raises(CommandError, match=named.replace("[", r"\[").replace("]", r"\]")):
        call_command("consent_check", _write(tmp_path, scenario), stdout=StringIO())


def test_command_unreadable_file_is_a_command_error(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="Cannot read the scenario"):
        call_command("consent_check", str(bad), stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot read the scenario"):
        call_command("consent_check", str(tmp_path / "missing.json"), stdout=StringIO())


@pytest.mark.django_db
def test_command_writes_nothing_to_the_database(tmp_path):
    from consent.models import AiUse, Consent

    assert (Consent.objects.count(), AiUse.objects.count()) == (0, 0)
    call_command("consent_check", _write(tmp_path, _scenario()), stdout=StringIO())
    refused = _scenario()
    refused["consents"] = []
    with pytest.raises(SystemExit):
        call_command("consent_check", _write(tmp_path, refused), stdout=StringIO())
    assert (Consent.objects.count(), AiUse.objects.count()) == (0, 0)
