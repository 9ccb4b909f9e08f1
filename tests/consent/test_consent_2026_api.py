"""The 2026 facts over REST: a consent's state-law fields, an AI use's synthetic-performer and
advertisement facts with the warnings its decision keeps, the check's new keys and `warnings`,
the check of a draft consent (POST /api/v1/consents/check/), and the note a use dated outside
every agreement attached to its production carries."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from consent.models import AiUse, Consent
from tests.consent.helpers import check_body, consent_body, counts, media_files, use_body
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    grant_consent,
    guild_staff,
    studio_staff,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

DRAFT_CHECK = "/api/v1/consents/check/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world():
    """Meridian's `Night Shift` under SAG-AFTRA 2026 with Ann engaged from 2026-07-06, its
    `Old Light` under SAG-AFTRA 2023 only with Olga engaged; Northgate's film with Nell."""
    meridian = StudioFactory(name="Meridian", slug="meridian")
    northgate = StudioFactory(name="Northgate", slug="northgate")
    night = ProductionFactory(studio=meridian, title="Night Shift")
    old = ProductionFactory(studio=meridian, title="Old Light")
    ann = EngagementFactory(
        production=night,
        person=PersonFactory(legal_name="Ann Example", registered_by=meridian),
        agreement=agreement("sag-tvth-2026"),
        start_date=date(2026, 7, 6),
    )
    olga = EngagementFactory(
        production=old, person=PersonFactory(legal_name="Olga Old", registered_by=meridian)
    )
    nell = EngagementFactory(
        production=ProductionFactory(studio=northgate, title="Northgate Film"),
        person=PersonFactory(legal_name="Nell Other", registered_by=northgate),
        agreement=agreement("sag-tvth-2026"),
    )
    client = APIClient()
    client.force_authenticate(studio_staff(meridian, "maya"))
    return {
        "client": client,
        "night": night,
        "old": old,
        "ann": ann,
        "olga": olga,
        "nell": nell,
        "northgate": northgate,
    }


def draft(world, **overrides) -> dict:
    """A JSON draft of a 2026 creation consent for Ann in Night Shift: no notice, no reason."""
    body = consent_body(
        world["ann"].person,
        world["night"],
        term_from="2026-07-01",
        term_to="2027-06-30",
        signed_at="2026-07-01T12:00:00Z",
        notice_at=None,
        evidence=None,
    )
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


# --- the consent's state-law fields -----------------------------------------------------------


def test_a_consent_records_and_shows_its_state_law_fields(world):
    body = consent_body(
        world["ann"].person,
        world["night"],
        term_from="2026-07-01",
        signed_at="2026-07-01T12:00:00Z",
        business_reason="Stunt double for the fall in episode 4",
        governing_law="US-CA",
        performance_fixed_on="2026-07-02",
        replaces_in_person_work="true",
        represented_by="counsel",
        terms_initialed="true",
    )
    response = world["client"].post("/api/v1/consents/", body, format="multipart")
    assert response.status_code == 201, response.content
    got = response.json()
    assert {k: got[k] for k in ("governing_law", "performance_fixed_on")} == {
        "governing_law": "US-CA",
        "performance_fixed_on": "2026-07-02",
    }
    assert got["replaces_in_person_work"] is True
    assert got["terms_initialed"] is True
    assert got["represented_by"] == "counsel"
    stored = Consent.objects.get(pk=got["id"])
    assert stored.history.first().governing_law == "US-CA"


@pytest.mark.parametrize("bad", ["us-ca", "USA-CA", "US", "US-CALI", "US_CA", "US-C A"])
def test_a_governing_law_that_is_not_an_iso_3166_2_code_is_refused(world, bad, media):
    before, files = counts(), media_files(media)
    body = consent_body(world["ann"].person, world["night"], governing_law=bad)
    response = world["client"].post("/api/v1/consents/", body, format="multipart")
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"governing_law"}
    assert counts() == before
    assert media_files(media) == files


def test_any_valid_iso_3166_2_code_is_taken_not_only_the_offered_ones(world):
    body = consent_body(world["ann"].person, world["night"], governing_law="GB-ENG")
    response = world["client"].post("/api/v1/consents/", body, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["governing_law"] == "GB-ENG"


# --- the check of a draft consent -------------------------------------------------------------


def test_a_draft_without_notice_or_business_reason_fails_those_rules_and_writes_nothing(
    world, media
):
    before, files = counts(), media_files(media)
    response = world["client"].post(DRAFT_CHECK, draft(world), format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert set(answer) == {"ok", "agreement", "category", "findings", "warnings"}
    assert answer["ok"] is False
    assert answer["agreement"] == "sag-tvth-2026"
    failed = {f["rule"] for f in answer["findings"] if not f["passed"]}
    assert failed == {"sag.consent.notice_48h", "sag.consent.scan_reason"}
    assert all(f["message"] for f in answer["findings"])
    assert counts() == before
    assert media_files(media) == files


def test_a_complete_draft_passes_and_multipart_with_evidence_is_taken_too(world, media):
    body = consent_body(
        world["ann"].person,
        world["night"],
        term_from="2026-07-01",
        term_to="2027-06-30",
        signed_at="2026-07-01T12:00:00Z",
        notice_at="2026-06-28T09:00:00Z",
        business_reason="Stunt double for the fall in episode 4",
    )
    before, files = counts(), media_files(media)
    response = world["client"].post(DRAFT_CHECK, body, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True, response.json()
    assert counts() == before
    assert media_files(media) == files


def test_a_draft_under_california_law_is_judged_by_the_state_law_rule(world):
    body = draft(
        world,
        description="Any and all uses in all media now known or hereafter devised",
        notice_at="2026-06-28T09:00:00Z",
        business_reason="Stunt double",
        governing_law="US-CA",
        performance_fixed_on="2026-07-02",
        replaces_in_person_work=True,
    )
    answer = world["client"].post(DRAFT_CHECK, body, format="json").json()
    failed = {f["rule"] for f in answer["findings"] if not f["passed"]}
    assert "law.ca.lab927" in failed, answer
    with_counsel = draft(
        world,
        **{k: body[k] for k in body if k not in ("person", "production")},
        represented_by="counsel",
        terms_initialed=True,
    )
    answer = world["client"].post(DRAFT_CHECK, with_counsel, format="json").json()
    assert "law.ca.lab927" not in {f["rule"] for f in answer["findings"] if not f["passed"]}


def test_an_open_ended_draft_carries_the_no_fakes_warning_and_stays_ok(world):
    body = draft(world, term_to=None, notice_at="2026-06-28T09:00:00Z", business_reason="Stunt")
    body.pop("term_to", None)
    answer = world["client"].post(DRAFT_CHECK, body, format="json").json()
    assert answer["ok"] is True, answer
    assert [w["rule"] for w in answer["warnings"]] == ["law.us.no_fakes"]


def test_a_draft_on_another_studios_production_is_refused_like_the_create(world, media):
    before, files = counts(), media_files(media)
    nell = world["nell"]
    body = draft(world, production=nell.production.pk)
    check = world["client"].post(DRAFT_CHECK, body, format="json")
    create = world["client"].post(
        "/api/v1/consents/",
        consent_body(world["ann"].person, nell.production),
        format="multipart",
    )
    assert set(assert_error(check, 400, "invalid")["fields"]) == {"production"}
    assert check.json()["fields"] == create.json()["fields"]
    assert counts() == before
    assert media_files(media) == files


@pytest.mark.parametrize("who", ["guild", "anonymous"])
def test_who_cannot_create_a_consent_cannot_check_a_draft(world, who):
    client = APIClient()
    if who == "guild":
        client.force_authenticate(guild_staff("sag-aftra", "sam"))
    check = client.post(DRAFT_CHECK, draft(world), format="json")
    create = client.post(
        "/api/v1/consents/", consent_body(world["ann"].person, world["night"]), format="multipart"
    )
    assert check.status_code == create.status_code
    assert check.status_code in (401, 403)
    assert check.json()["code"] == create.json()["code"]


def test_a_malformed_draft_is_a_json_error_with_a_stable_code(world):
    response = world["client"].post(
        DRAFT_CHECK, draft(world, replaces_in_person_work="yes", kind="hologram"), format="json"
    )
    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"replaces_in_person_work", "kind"}


def test_a_draft_for_a_person_with_no_engagement_needs_a_category(world):
    stranger = PersonFactory(legal_name="Sam Stranger", registered_by=world["night"].studio)
    response = world["client"].post(DRAFT_CHECK, draft(world, person=stranger.pk), format="json")
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"category"}


# --- AI uses: the 2026 facts and the warnings kept ---------------------------------------------


def test_an_advertisement_in_new_york_without_disclosure_is_a_violation_of_gbl396b(world):
    night = world["night"]
    ProductionAgreementFactory(production=night, agreement=agreement("sag-tvth-2026"))
    notice = world["client"].post(
        "/api/v1/union-notices/",
        {
            "production": night.pk,
            "guild": "sag-aftra",
            "kind": "synthetic_performer",
            "given_at": "2026-07-01T09:00:00Z",
            "description": "Synthetic host",
        },
        format="json",
    )
    assert notice.status_code == 201, notice.content
    body = use_body(
        None,
        night,
        kind="synthetic_performer",
        starts_at="2026-07-10T09:00:00Z",
        description="Synthetic host in the spring campaign",
        advertisement=True,
        distributed_in=["US-NY", "US-CA"],
        disclosure_given=False,
    )
    body["person"] = None
    response = world["client"].post("/api/v1/ai-uses/", body, format="json")
    assert response.status_code == 201, response.content
    got = response.json()
    assert got["status"] == "violation"
    assert "law.ny.gbl396b" in got["rules"]
    assert got["distributed_in"] == ["US-NY", "US-CA"]
    assert got["advertisement"] is True
    assert got["ad_exemption"] == ""
    assert isinstance(got["warnings"], list)
    exempt = {**body, "ad_exemption": "expressive_work"}
    again = world["client"].post("/api/v1/ai-uses/", exempt, format="json").json()
    assert again["status"] == "allowed", again["reasons"]
    assert AiUse.objects.get(pk=again["id"]).ad_exemption == "expressive_work"


def test_a_use_keeps_the_warnings_of_its_decision(world):
    grant_consent(
        world["ann"],
        kind="replica_use",
        term_from=date(2026, 7, 1),
        term_to=None,
        signed_at=datetime(2026, 7, 1, 12, tzinfo=UTC),
    )
    body = use_body(
        world["ann"].person,
        world["night"],
        kind="replica_use",
        starts_at="2026-07-20T09:00:00Z",
        days="1.00",
    )
    response = world["client"].post("/api/v1/ai-uses/", body, format="json")
    assert response.status_code == 201, response.content
    got = response.json()
    assert [w["rule"] for w in got["warnings"]] == ["law.us.no_fakes"], got
    assert AiUse.objects.get(pk=got["id"]).warnings == got["warnings"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"advertisement": True, "distributed_in": ["us-ny"]}, "distributed_in"),
        ({"advertisement": True, "distributed_in": "US-NY"}, "distributed_in"),
        ({"advertisement": True, "distributed_in": ["US-NY", "US-NY"]}, "distributed_in"),
        ({"distributed_in": ["US-NY"]}, "distributed_in"),
        ({"ad_exemption": "audio_only"}, "ad_exemption"),
        ({"advertisement": True, "ad_exemption": "satire"}, "ad_exemption"),
        ({"human_role": "yes"}, "human_role"),
    ],
)
def test_bad_2026_use_facts_are_refused_and_nothing_is_written(world, overrides, field):
    before = counts()
    body = use_body(world["ann"].person, world["night"], **overrides)
    response = world["client"].post("/api/v1/ai-uses/", body, format="json")
    assert set(assert_error(response, 400, "invalid")["fields"]) == {field}
    assert counts() == before


def test_the_check_takes_the_2026_use_keys_and_answers_with_warnings(world):
    body = check_body(
        None,
        world["night"],
        on="2026-07-10T09:00:00Z",
        use_kind="synthetic_performer",
        advertisement=True,
        distributed_in=["US-NY"],
        disclosure_given=True,
        human_role=True,
        synthetic_justification="A creature no human could play",
    )
    body["person"] = None
    response = world["client"].post("/api/v1/consent-checks/", body, format="json")
    assert response.status_code == 200, response.content
    assert "warnings" in response.json()
    bad = {**body, "distributed_in": ["New York"]}
    response = world["client"].post("/api/v1/consent-checks/", bad, format="json")
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"distributed_in[0]"}
    batch = world["client"].post("/api/v1/consent-checks/batch/", {"checks": [body]}, format="json")
    assert "warnings" in batch.json()["results"][0]


# --- agreements in force --------------------------------------------------------------------


def test_a_use_dated_after_every_attached_agreement_says_which_one_governs(world):
    olga = world["olga"]
    grant_consent(olga, kind="replica_use", term_to=date(2027, 12, 31))
    body = check_body(olga.person, world["old"], on="2026-08-03T09:00:00Z", use_kind="replica_use")
    decision = world["client"].post("/api/v1/consent-checks/", body, format="json").json()
    assert decision["agreement"] == "sag-tvth-2026"
    note = decision["reasons"][-1]
    assert "sag-tvth-2023, 2023-11-09 to 2026-06-30" in note
    assert "sag-tvth-2026" in note and "governs that date" in note


def test_an_in_term_use_has_no_such_note(world):
    olga = world["olga"]
    grant_consent(olga, kind="replica_use")
    body = check_body(olga.person, world["old"], on="2025-08-04T09:00:00Z", use_kind="replica_use")
    decision = world["client"].post("/api/v1/consent-checks/", body, format="json").json()
    assert decision["agreement"] == "sag-tvth-2023"
    assert not any("governs" in reason for reason in decision["reasons"])


def test_a_use_dated_where_no_version_is_in_force_names_the_attached_terms(world):
    olga = world["olga"]
    body = check_body(olga.person, world["old"], on="2031-01-02T09:00:00Z", use_kind="replica_use")
    response = world["client"].post("/api/v1/consent-checks/", body, format="json")
    error = assert_error(response, 400, "no_agreement")
    assert "sag-tvth-2023, 2023-11-09 to 2026-06-30" in error["message"]
