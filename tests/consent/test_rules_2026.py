"""The 2026 revision of the consent rules beyond the rule cases: the review of one consent before
any use (rules.review_consent), the 2026 what-if keys, the dated state-law parameters, warnings in
the answer, and the no-union agreement. No database."""

import json
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from consent import rules, whatif
from core.parse import ParseError

from .test_rule_cases import CASES_DIR, _load

SPECIFIC = (
    "Digital replica of the performer in the rooftop chase scenes of episode 5, for streaming "
    "and promotional trailers"
)


def _consent(**changes) -> rules.ConsentFacts:
    values = {
        "id": "c1",
        "kind": "replica_creation",
        "production": "night-harbor-s1",
        "description": SPECIFIC,
        "instrument": "rider",
        "signed_at": datetime(2026, 7, 2, 12, tzinfo=UTC),
        "signed_by_capacity": "self",
        "term_from": date(2026, 7, 2),
        "term_to": date(2027, 6, 30),
        "notice_at": datetime(2026, 7, 2, 12, tzinfo=UTC),
        "business_reason": "Crowd extension for the harbour fire",
    }
    values.update(changes)
    return rules.ConsentFacts(**values)


PRINCIPAL = rules.PersonFacts(category="principal")


def _by_rule(review: rules.Review) -> dict[str, rules.Finding]:
    return {f.rule: f for f in review.findings}


# --- review_consent -------------------------------------------------------------------------


def test_a_sound_2026_creation_consent_passes_every_rule_judged_before_use():
    review = rules.review_consent("sag-tvth-2026", PRINCIPAL, _consent())
    assert review.ok
    assert set(_by_rule(review)) == {
        "consent.term",
        "sag.consent.separate",
        "sag.consent.specific",
        "sag.consent.notice_48h",
        "sag.consent.scan_reason",
    }
    assert review.warnings == ()


def test_the_review_says_what_the_check_says_of_a_faulty_consent():
    faulty = _consent(
        instrument="standard_terms", description="All uses", notice_at=None, business_reason=""
    )
    review = rules.review_consent("sag-tvth-2026", PRINCIPAL, faulty)
    failed = {f.rule: f.message for f in review.findings if not f.passed}
    assert not review.ok
    assert set(failed) == {
        "sag.consent.separate",
        "sag.consent.specific",
        "sag.consent.notice_48h",
        "sag.consent.scan_reason",
    }
    scan = rules.Facts(
        agreement="sag-tvth-2026",
        person=PRINCIPAL,
        use=rules.UseFacts(
            kind="scan", production="night-harbor-s1", at=datetime(2026, 7, 10, tzinfo=UTC)
        ),
        consents=(faulty,),
    )
    decision = rules.check(scan)
    assert set(decision.rules) == set(failed)
    assert set(failed.values()) <= set(decision.reasons)


def test_a_2023_creation_consent_is_not_asked_for_a_business_reason():
    review = rules.review_consent("sag-tvth-2023", PRINCIPAL, _consent(business_reason=""))
    assert review.ok and "sag.consent.scan_reason" not in _by_rule(review)


def test_a_term_ending_before_it_starts_is_refused():
    review = rules.review_consent(
        "sag-tvth-2026", PRINCIPAL, _consent(term_from=date(2027, 1, 1), term_to=date(2026, 12, 1))
    )
    term = _by_rule(review)["consent.term"]
    assert not term.passed and "before its term starts" in term.message
    assert not review.ok


def test_a_minor_needs_a_representative_and_the_review_carries_the_warning():
    minor = rules.PersonFacts(category="minor")
    refused = rules.review_consent("sag-tvth-2026", minor, _consent())
    assert not _by_rule(refused)["sag.consent.minor"].passed
    assert [w.rule for w in refused.warnings] == ["sag.consent.minor"]
    assert "needs_confirmation" in refused.warnings[0].message
    signed = rules.review_consent(
        "sag-tvth-2026", minor, _consent(signed_by_capacity="representative")
    )
    assert signed.ok and _by_rule(signed)["sag.consent.minor"].passed
    assert "sag.consent.minor" not in _by_rule(
        rules.review_consent("sag-tvth-2023", minor, _consent())
    )


def test_a_deceased_performer_under_california_law_needs_the_estate():
    dead = rules.PersonFacts(category="principal", deceased_on=date(2026, 1, 15))
    review = rules.review_consent(
        "sag-tvth-2026", dead, _consent(governing_law="US-CA", signed_by_capacity="union")
    )
    estate = _by_rule(review)["law.ca.civ3344_1"]
    assert not estate.passed
    assert "the greater of $10,000 or actual damages" in estate.message
    # The union may sign for a deceased performer with no representative (the union's rule).
    assert _by_rule(review)["sag.consent.deceased"].passed


def test_new_york_heirs_rule_is_taken_at_the_review_date():
    dead = rules.PersonFacts(category="principal", deceased_on=date(2025, 6, 1))
    consent = _consent(governing_law="US-NY", signed_by_capacity="union")
    before = rules.review_consent("sag-tvth-2023", dead, consent, on=date(2025, 12, 10))
    after = rules.review_consent("sag-tvth-2023", dead, consent, on=date(2025, 12, 11))
    assert "law.ny.cr50f" not in _by_rule(before)
    assert not _by_rule(after)["law.ny.cr50f"].passed


def test_an_unenforceable_replacement_consent_without_a_union():
    vague = _consent(
        kind="replica_use",
        description="Digital replica of the performer",
        governing_law="US-CA",
        performance_fixed_on=date(2025, 3, 1),
        replaces_in_person_work=True,
        represented_by="union",
    )
    non_union = rules.review_consent("non-union", PRINCIPAL, vague)
    assert [f.rule for f in non_union.findings if not f.passed] == ["law.ca.lab927"]
    sag = rules.review_consent("sag-tvth-2026", PRINCIPAL, vague)
    assert _by_rule(sag)["law.ca.lab927"].passed  # exempt: negotiated by the union
    assert not _by_rule(sag)["sag.consent.specific"].passed


def test_an_open_ended_consent_of_a_living_person_gets_the_advisory_only():
    review = rules.review_consent("non-union", PRINCIPAL, _consent(term_to=None))
    assert review.ok
    assert [w.rule for w in review.warnings] == ["law.us.no_fakes"]
    assert "not enacted" in review.warnings[0].message


def test_union_rules_follow_the_agreement():
    writer = rules.PersonFacts(category="writer")
    wga = rules.review_consent(
        "wga-mba-2026", writer, _consent(kind="writer_ai_use", instrument="standard_terms")
    )
    assert set(_by_rule(wga)) == {"consent.term"}
    crew = rules.PersonFacts(category="crew")
    iatse = rules.review_consent(
        "iatse-basic-2024", crew, _consent(kind="scan", instrument="standard_terms")
    )
    assert not _by_rule(iatse)["iatse.scan_consent"].passed
    non_union = rules.review_consent("non-union", crew, _consent(instrument="standard_terms"))
    assert set(_by_rule(non_union)) == {"consent.term"}


def test_a_review_outside_the_agreement_is_refused():
    with pytest.raises(rules.CheckInputError):
        rules.review_consent("sag-tvth-2031", PRINCIPAL, _consent())
    with pytest.raises(rules.CheckInputError) as raised:
        rules.review_consent("sag-tvth-2026", rules.PersonFacts(category="crew"), _consent())
    assert raised.value.code == "use_kind_not_applicable"


def test_a_review_as_a_dict():
    review = rules.review_consent("sag-tvth-2026", PRINCIPAL, _consent(term_to=None))
    out = review.as_dict()
    assert out["ok"] is True
    assert {
        "rule": "consent.term",
        "passed": True,
        "message": "Consent c1 runs from 2026-07-02 to no end.",
    } in out["findings"]
    assert [w["rule"] for w in out["warnings"]] == ["law.us.no_fakes"]
    assert json.loads(json.dumps(out)) == out


# --- the no-union agreement -----------------------------------------------------------------


@pytest.mark.parametrize("category", rules.CATEGORIES)
@pytest.mark.parametrize("kind", rules.USE_KINDS)
def test_no_union_takes_anyone_and_every_use_kind(category, kind):
    consent_kind = rules.NON_UNION_CONSENT_KINDS[kind][0]
    facts = rules.Facts(
        agreement="non-union",
        person=rules.PersonFacts(category=category),
        use=rules.UseFacts(
            kind=kind,
            production="night-harbor-s1",
            at=datetime(2026, 8, 10, tzinfo=UTC),
            flags=rules.UseFlags(synthetic_source_person=True),
        ),
        consents=(_consent(kind=consent_kind, term_to=date(2030, 1, 1)),),
    )
    decision = rules.check(facts)
    assert decision.allowed and decision.consent == "c1"
    assert set(decision.rules) == {"consent.term", "consent.revoked"}
    no_consent = rules.check(rules.Facts(facts.agreement, facts.person, facts.use))
    assert not no_consent.allowed and no_consent.rules == ("consent.term",)
    assert "No consent covers the use's date" in no_consent.reasons[0]


# --- the what-if keys of the 2026 revision --------------------------------------------------


def _case(rule: str, name: str) -> dict:
    for case in _load(CASES_DIR / f"{rule}.json")["cases"]:
        if case["name"] == name:
            return json.loads(json.dumps(case["scenario"]))
    raise LookupError(name)


def test_the_2026_keys_are_read_into_the_facts():
    scenario = _case(
        "law.ca.lab927", "California: counsel negotiated it and the terms were initialed"
    )
    scenario["use"].update(
        human_role=True,
        synthetic_justification="Ages sixty years in one shot",
        advertisement=True,
        distributed_in=["US-NY", "CA"],
        disclosure_given=True,
        ad_exemption="translation",
    )
    facts = whatif.facts(scenario)
    consent = facts.consents[0]
    assert (consent.governing_law, consent.performance_fixed_on) == ("US-CA", date(2025, 3, 1))
    assert consent.replaces_in_person_work and consent.terms_initialed
    assert consent.represented_by == "counsel"
    use = facts.use
    assert use.flags == rules.UseFlags(human_role=True, advertisement=True, disclosure_given=True)
    assert use.synthetic_justification == "Ages sixty years in one shot"
    assert use.distributed_in == ("US-NY", "CA")
    assert use.ad_exemption == "translation"


def test_missing_2026_keys_take_their_defaults():
    base = json.loads(json.dumps(_load(CASES_DIR / "sag.consent.creation.json")["cases"][0]))
    facts = whatif.facts(base["scenario"])
    consent, use = facts.consents[0], facts.use
    assert (consent.governing_law, consent.performance_fixed_on, consent.represented_by) == (
        None,
        None,
        None,
    )
    assert not consent.replaces_in_person_work and not consent.terms_initialed
    assert (use.synthetic_justification, use.distributed_in, use.ad_exemption) == ("", (), None)
    explicit = base["scenario"]
    explicit["consents"][0].update(
        governing_law=None,
        performance_fixed_on=None,
        replaces_in_person_work=False,
        represented_by=None,
        terms_initialed=False,
    )
    explicit["use"].update(
        human_role=False,
        synthetic_justification="",
        advertisement=False,
        distributed_in=[],
        disclosure_given=False,
        ad_exemption=None,
    )
    assert whatif.facts(explicit) == facts


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda s: s["consents"][0].update(governing_law="California"),
            "consents[0].governing_law",
        ),
        (lambda s: s["consents"][0].update(governing_law="US"), "consents[0].governing_law"),
        (lambda s: s["consents"][0].update(represented_by="agent"), "consents[0].represented_by"),
        (
            lambda s: s["consents"][0].update(performance_fixed_on="spring 2025"),
            "consents[0].performance_fixed_on",
        ),
        (
            lambda s: s["consents"][0].update(replaces_in_person_work="yes"),
            "consents[0].replaces_in_person_work",
        ),
        (lambda s: s["use"].update(ad_exemption="satire"), "use.ad_exemption"),
        (lambda s: s["use"].update(distributed_in="US-NY"), "use.distributed_in"),
        (lambda s: s["use"].update(distributed_in=["New York"]), "use.distributed_in[0]"),
        (lambda s: s["use"].update(human_role="true"), "use.human_role"),
        (lambda s: s["use"].update(synthetic_justification=7), "use.synthetic_justification"),
        (lambda s: s["use"].update(disclosure=True), "use"),
        (
            lambda s: s.update(union_notices=[{"kind": "training", "production": "p"}]),
            "union_notices[0].kind",
        ),
    ],
)
def test_malformed_2026_keys_are_refused_naming_the_field(mutate, field):
    scenario = _case(
        "law.ca.lab927", "California: counsel negotiated it and the terms were initialed"
    )
    mutate(scenario)
    with pytest.raises(ParseError) as raised:
        whatif.facts(scenario)
    assert raised.value.field == field


def test_the_answer_carries_the_warnings(tmp_path):
    scenario = _case(
        "law.us.no_fakes", "open-ended consent of a living performer: allowed with a warning"
    )
    decision = whatif.decide(scenario)
    assert decision.as_dict()["warnings"] == [
        {"rule": "law.us.no_fakes", "message": decision.warnings[0].message}
    ]
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    out = StringIO()
    call_command("consent_check", str(path), stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["allowed"] is True
    assert [w["rule"] for w in printed["warnings"]] == ["law.us.no_fakes"]


# --- the dated parameters of state law ------------------------------------------------------

STATUTE_DATES = {
    "law.ca.lab927.in_force": (date(2025, 1, 1), "P"),
    "law.ny.gol5_302.in_force": (date(2025, 1, 1), "P"),
    "law.il.dvlpa.in_force": (date(2024, 8, 9), "P"),
    "law.ny.cr50f.in_force": (date(2025, 12, 11), "S"),
    "law.ny.gbl396b.in_force": (date(2026, 6, 9), "S"),
}


@pytest.mark.parametrize("parameter", sorted(STATUTE_DATES))
def test_each_statute_is_in_force_from_its_date_with_its_tier_and_source(parameter):
    start, tier = STATUTE_DATES[parameter]
    shipped = rules.shipped_parameters()
    on, before = (
        shipped.get(parameter, start),
        shipped.get(parameter, date.fromordinal(start.toordinal() - 1)),
    )
    assert (on.value, before.value) == (1, 0)
    assert on.effective_from == start and on.tier == tier
    rule = parameter.removesuffix(".in_force")
    assert on.rule == rule and rule in on.source and "evidence.md §9" in on.source


@pytest.mark.parametrize(
    ("parameter", "years"),
    [("law.ca.civ3344_1.years_after_death", 70), ("law.us.no_fakes.max_term_years", 10)],
)
def test_the_periods_of_state_law_are_parameters(parameter, years):
    value = rules.shipped_parameters().get(parameter, date(2026, 8, 10))
    assert value.value == years and value.unit == "years" and value.tier == "P"
    assert value.rule in value.source and "evidence.md §9" in value.source
    assert rules.RuleParameters.as_of(date(2026, 8, 10)).years(parameter) == years
