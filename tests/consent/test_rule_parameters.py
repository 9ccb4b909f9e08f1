"""The consent check's fixed periods are dated parameters (consent/parameters.json, read with
core.dated), taken as of the use's date; the use flags have one definition (rules.UseFlags).
No database."""

import json
from dataclasses import fields
from datetime import date, timedelta

import pytest

from consent import rules, whatif
from core.dated import DatedParameters, ParameterFileError, ValueMissing, load, parse_series
from core.parse import ParseError

from .test_rule_cases import _scenario


def _series(*values: dict) -> dict:
    return {
        "parameter": "sag.consent.notice_before_scan",
        "rule": "sag.consent.notice_48h",
        "unit": "hours",
        "values": list(values),
    }


def _value(start, value, source="RULES.md §2 sag.consent.notice_48h"):
    return {"from": start, "value": value, "tier": "P", "source": source}


def _shipped_with(*values: dict) -> DatedParameters:
    """The shipped parameters, with the notice period replaced by `values`."""
    notice = parse_series(_series(*values), origin="test")
    return DatedParameters({**rules.shipped_parameters().series, notice.parameter: notice})


def test_the_shipped_notice_period_is_48_hours_cited_to_its_rule():
    value = rules.shipped_parameters().get("sag.consent.notice_before_scan", date(2025, 3, 12))
    assert value.value == 48 and value.unit == "hours"
    assert value.rule == "sag.consent.notice_48h"
    assert "sag.consent.notice_48h" in value.source
    assert rules.RuleParameters.as_of(date(2025, 3, 12)).notice_before_scan == timedelta(hours=48)


def test_the_check_takes_the_period_in_force_on_the_use_date():
    """A value taking effect after the use does not decide it; one in force on its date does."""
    scenario = _scenario()
    scenario["consents"][0]["notice_at"] = "2025-03-10T09:00:00Z"  # 48 hours before the scan
    facts = whatif.facts(scenario)
    assert rules.check(facts).allowed
    use_day = facts.use.at.date()
    later = _shipped_with(
        _value(None, "48"), _value((use_day + timedelta(days=1)).isoformat(), "72")
    )
    assert rules.check(facts, parameters=later).allowed
    now = _shipped_with(_value(None, "48"), _value(use_day.isoformat(), "72"))
    decision = rules.check(facts, parameters=now)
    assert not decision.allowed and decision.rules == ("sag.consent.notice_48h",)
    assert any("72 hours before the scan" in reason for reason in decision.reasons)


def test_a_date_no_value_covers_is_never_guessed():
    only_later = _shipped_with(_value("2030-01-01", "48"))
    with pytest.raises(ValueMissing):
        rules.check(whatif.facts(_scenario()), parameters=only_later)


@pytest.mark.parametrize(
    "values",
    [
        [_value(None, 48)],  # not a decimal string
        [_value(None, "48"), _value(None, "72")],  # a second open start
        [_value("2025-01-01", "48"), _value("2024-01-01", "72")],  # out of order
        [_value("2025-01-01", "48"), _value("2025-01-01", "72")],  # twice
        [_value(None, "48", source=" ")],  # no source
        [{"from": None, "value": "48", "tier": "X", "source": "s"}],  # unknown tier
        [],
    ],
)
def test_a_malformed_series_is_refused(values):
    with pytest.raises(ParameterFileError):
        parse_series(_series(*values), origin="test")


def test_a_file_with_floats_or_a_parameter_twice_is_refused(tmp_path):
    path = tmp_path / "parameters.json"
    path.write_text('{"parameters": [' + json.dumps(_series(_value(None, "48"))) + "]}")
    assert load(path).get("sag.consent.notice_before_scan", date(2025, 1, 1)).value == 48
    path.write_text(path.read_text().replace('"48"', "48.0"))
    with pytest.raises(ParameterFileError, match="float"):
        load(path)
    twice = json.dumps(_series(_value(None, "48")))
    path.write_text('{"parameters": [' + twice + "," + twice + "]}")
    with pytest.raises(ParameterFileError, match="twice"):
        load(path)


# --- the use flags --------------------------------------------------------------------------


def test_the_use_flags_are_one_list():
    """rules.UseFlags is the definition; the register's columns and the API's check fields
    (declared for the schema) carry the same names."""
    from consent.api import ConsentCheckSerializer
    from consent.models import USE_FIELDS, USE_FLAGS, AiUse

    names = tuple(f.name for f in fields(rules.UseFlags))
    assert rules.USE_FLAGS == USE_FLAGS == names
    assert set(names) <= set(USE_FIELDS)
    for name in names:
        assert AiUse._meta.get_field(name).get_internal_type() == "BooleanField"
    assert set(names) <= set(ConsentCheckSerializer().fields)


def test_a_scenario_flag_is_read_into_use_flags():
    scenario = _scenario()
    scenario["use"]["counted_toward_headcount"] = True
    assert whatif.facts(scenario).use.flags == rules.UseFlags(counted_toward_headcount=True)
    scenario["use"]["counted_toward_headcount"] = "yes"
    with pytest.raises(ParseError) as raised:
        whatif.facts(scenario)
    assert raised.value.field == "use.counted_toward_headcount"
    assert raised.value.message == "use.counted_toward_headcount must be true or false."
