"""Bad input to the consent API never writes and never breaks: every refusal is a 400 with the one
JSON error shape `{"code", "message", "fields"}`, and the consent records (rows and history, and
the stored evidence files) are left exactly as they were.

Every case is a small change to a body the API accepts (`test_the_baseline_bodies_are_accepted`),
so each refusal is for the reason the case names."""

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from consent.models import StrikePeriod
from tests.consent.helpers import at, check_body, consent_body, counts, media_files, use_body
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    evidence_file,
    grant_consent,
    guild,
    guild_staff,
    studio_staff,
)
from tests.helpers import assert_error
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"  # beyond 64 bits
MALFORMED_JSON = {
    "truncated": b'{"reason": "x"',
    "single quotes": b"{'reason': 'x'}",
    "unclosed list": b'{"checks": [',
    "trailing comma": b'{"reason": "x",}',
    "not json": b"reason=x",
    "NUL": b'{"reason": "x"}\x00',
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def world():
    """Studio Meridian with staff Maya; `The Long Light` under SAG-AFTRA 2023 and WGA 2023, with
    Ann engaged as a day performer and Abe as a writer; Ann's creation consent; SAG-AFTRA staff
    Sally and a SAG-AFTRA strike she recorded."""
    studio = StudioFactory(slug="meridian")
    production = ProductionFactory(studio=studio, title="The Long Light")
    ProductionAgreementFactory(production=production, agreement=agreement("wga-mba-2023"))
    ann = EngagementFactory(production=production, person=PersonFactory(registered_by=studio))
    abe = EngagementFactory(
        production=production,
        person=PersonFactory(registered_by=studio),
        agreement=agreement("wga-mba-2023"),
        classification="writer",
        rate_unit="week",
    )
    maya = studio_staff(studio, "maya")
    sally = guild_staff("sag-aftra", "sally")
    consent = grant_consent(ann, actor=maya)
    strike = StrikePeriod(
        guild=guild("sag-aftra"), starts_on=at(2026, 8, 1).date(), recorded_by=sally
    )
    strike._history_user = sally
    strike.save()
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(maya)
    sag_client = APIClient(raise_request_exception=False)
    sag_client.force_authenticate(sally)
    return {
        "production": production,
        "ann": ann.person,
        "abe": abe.person,
        "consent": consent,
        "strike": strike,
        "client": client,
        "sag_client": sag_client,
    }


def notice_body(world, **overrides):
    body = {
        "production": world["production"].pk,
        "guild": "sag-aftra",
        "kind": "synthetic_performer",
        "given_at": "2025-06-09T09:00:00Z",
        "description": "A synthetic extra in the crowd scenes",
        "recipient": "SAG-AFTRA",
    }
    body.update(overrides)
    return body


def strike_body(**overrides):
    body = {"guild": "sag-aftra", "starts_on": "2026-09-01", "description": "A strike"}
    body.update(overrides)
    return body


def disclosure_body(world, **overrides):
    body = {
        "production": world["production"].pk,
        "writer": world["abe"].pk,
        "material": "An AI-generated outline of episode 2",
        "handed_over_on": "2025-06-10",
        "disclosed_at": "2025-06-10T08:00:00Z",
    }
    body.update(overrides)
    return body


def omit_none(body):
    return {k: v for k, v in body.items() if v is not None}


def refused(response, *, status=400, code=None):
    """A 4xx (never 500) with the one error shape."""
    assert response.status_code != 500, response.content[:800]
    return assert_error(response, status, code)


# --- the baseline bodies are accepted -----------------------------------------------------------


def test_the_baseline_bodies_are_accepted(world):
    client, sag = world["client"], world["sag_client"]
    ann, production, consent = world["ann"], world["production"], world["consent"]
    response = client.post("/api/v1/consents/", consent_body(ann, production), format="multipart")
    assert response.status_code == 201, response.content
    response = client.post(
        f"/api/v1/consents/{consent.pk}/suspend/",
        {"reason": "Dispute", "at": "2025-06-12T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = client.post("/api/v1/ai-uses/", use_body(ann, production), format="json")
    assert response.status_code == 201, response.content
    response = client.post("/api/v1/union-notices/", notice_body(world), format="json")
    assert response.status_code == 201, response.content
    response = client.post("/api/v1/wga-disclosures/", disclosure_body(world), format="json")
    assert response.status_code == 201, response.content
    assert sag.post("/api/v1/strike-periods/", strike_body(), format="json").status_code == 201
    response = sag.put(
        f"/api/v1/strike-periods/{world['strike'].pk}/",
        strike_body(starts_on="2026-08-01", ends_on="2026-09-30"),
        format="json",
    )
    assert response.status_code == 200, response.content
    response = client.post("/api/v1/consent-checks/", check_body(ann, production), format="json")
    assert response.status_code == 200, response.content
    response = client.post(
        "/api/v1/consent-checks/batch/", {"checks": [check_body(ann, production)]}, format="json"
    )
    assert response.status_code == 200, response.content


# --- consents ---------------------------------------------------------------------------------

CONSENT_CASES = {
    # wrong types
    "string for a person id": {"person": "ann"},
    "decimal for a person id": {"person": "1.5"},
    "string for a date": {"term_from": "next tuesday"},
    "string for a datetime": {"signed_at": "yesterday"},
    "string for an amount": {"bargained_amount": "a lot"},
    "string for the evidence file": {"evidence": "rider.pdf"},
    "string for supersedes": {"supersedes": "the old one"},
    # unknown choices
    "unknown kind": {"kind": "hologram"},
    "unknown instrument": {"instrument": "handshake"},
    "unknown capacity": {"signed_by_capacity": "friend"},
    "unknown representation": {"represented_by": "cousin"},
    "unknown category": {"category": "extra"},
    "unknown currency": {"bargained_currency": "XYZ"},
    "unknown agreement": {"agreement": "sag-tvth-1999"},
    # domain refusals of well-formed input
    "agreement not attached": {"agreement": "iatse-basic-2024"},
    "category of another guild": {"category": "writer", "agreement": "sag-tvth-2023"},
    # missing required fields
    "missing person": {"person": None},
    "missing production": {"production": None},
    "missing kind": {"kind": None},
    "missing description": {"description": None},
    "empty description": {"description": ""},
    "missing term_from": {"term_from": None},
    "missing instrument": {"instrument": None},
    "missing signed_at": {"signed_at": None},
    "missing signed_by": {"signed_by": None},
    "missing signed_by_capacity": {"signed_by_capacity": None},
    "missing evidence": {"evidence": None},
    # ranges
    "term_to before term_from": {"term_to": "2025-05-31"},
    "negative bargained amount": {"bargained_amount": "-1.00"},
    "oversized bargained amount": {"bargained_amount": "1" * 20},
    "oversized scenes": {"scenes": "s" * 501},
    "oversized signed_by": {"signed_by": "n" * 201},
    "empty evidence file": {"evidence": evidence_file(b"", "empty.pdf")},
    "oversized evidence file name": {"evidence": evidence_file(b"x", "n" * 250 + ".pdf")},
    # ids out of 64-bit range
    "huge person id": {"person": HUGE},
    "huge production id": {"production": HUGE},
    "huge supersedes id": {"supersedes": HUGE},
    "negative huge person id": {"person": "-" + HUGE},
    # NUL characters
    "NUL in description": {"description": "Scan\x00 for episode 3, streaming"},
    "NUL in signed_by": {"signed_by": "Ann\x00"},
    "NUL in scenes": {"scenes": "ep 3\x00"},
    "NUL in business_reason": {"business_reason": "\x00"},
}


@pytest.mark.parametrize("overrides", CONSENT_CASES.values(), ids=CONSENT_CASES.keys())
def test_consent_create_refuses_bad_input(world, media, overrides):
    before, files = counts(), media_files(media)
    body = consent_body(world["ann"], world["production"], **overrides)
    response = world["client"].post("/api/v1/consents/", body, format="multipart")
    refused(response)
    assert counts() == before
    assert media_files(media) == files


def test_consent_create_refusals_name_the_field(world):
    cases = {
        "term_to": {"term_to": "2025-05-31"},
        "kind": {"kind": "hologram"},
        "evidence": {"evidence": evidence_file(b"", "empty.pdf")},
        "person": {"person": HUGE},
        "description": {"description": "bad\x00"},
        "agreement": {"agreement": "iatse-basic-2024"},
        "category": {"category": "writer", "agreement": "sag-tvth-2023"},
    }
    for field, overrides in cases.items():
        body = consent_body(world["ann"], world["production"], **overrides)
        response = world["client"].post("/api/v1/consents/", body, format="multipart")
        assert field in refused(response)["fields"], (field, response.json())


@override_settings(EVIDENCE_MAX_BYTES=10)
def test_oversize_evidence_is_refused(world, media):
    before, files = counts(), media_files(media)
    body = consent_body(
        world["ann"], world["production"], evidence=evidence_file(b"x" * 11, "big.pdf")
    )
    response = world["client"].post("/api/v1/consents/", body, format="multipart")
    body = refused(response, code="evidence_too_large")
    assert set(body["fields"]) == {"evidence"}
    assert counts() == before
    assert media_files(media) == files
    # Ten bytes are within the limit (the refusal is about the size).
    ok = world["client"].post(
        "/api/v1/consents/",
        consent_body(world["ann"], world["production"], evidence=evidence_file(b"x" * 10)),
        format="multipart",
    )
    assert ok.status_code == 201, ok.content


def test_a_consent_for_a_person_not_engaged_needs_a_category(world, media):
    loner = PersonFactory(registered_by=world["production"].studio)
    before, files = counts(), media_files(media)
    response = world["client"].post(
        "/api/v1/consents/", consent_body(loner, world["production"]), format="multipart"
    )
    assert set(refused(response)["fields"]) == {"category"}
    assert counts() == before
    assert media_files(media) == files
    # With the category given, it is recorded.
    response = world["client"].post(
        "/api/v1/consents/",
        consent_body(loner, world["production"], category="background"),
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["category"] == "background"


def test_a_blank_evidence_file_name_is_refused(world, media):
    before, files = counts(), media_files(media)
    body = consent_body(world["ann"], world["production"], evidence=evidence_file(b"x", " "))
    response = world["client"].post("/api/v1/consents/", body, format="multipart")
    refused(response)
    assert counts() == before
    assert media_files(media) == files


CONSENT_JSON_CASES = {
    "JSON body without a file": {},
    "object for a person": {"person": {"id": 1}},
    "list for a description": {"description": ["a", "b"]},
    "bool for a production": {"production": True},
}


@pytest.mark.parametrize("overrides", CONSENT_JSON_CASES.values(), ids=CONSENT_JSON_CASES.keys())
def test_consent_create_as_json_is_refused(world, media, overrides):
    """The evidence is a file: a JSON body cannot carry one, and its typed values are checked."""
    before, files = counts(), media_files(media)
    body = consent_body(world["ann"], world["production"], evidence=None)
    body.update(overrides)
    response = world["client"].post("/api/v1/consents/", body, format="json")
    refused(response)
    assert counts() == before
    assert media_files(media) == files


def test_consent_create_with_a_broken_multipart_body_is_refused(world, media):
    before = counts()
    response = world["client"].generic(
        "POST",
        "/api/v1/consents/",
        b'--nope\r\nContent-Disposition: form-data; name="person"\r\n\r\n1',
        content_type="multipart/form-data; boundary=elsewhere",
    )
    refused(response)
    assert counts() == before


# --- consent events -----------------------------------------------------------------------------

EVENT_CASES = {
    "missing reason": {"reason": None},
    "empty reason": {"reason": ""},
    "NUL in reason": {"reason": "withdrawn\x00"},
    "oversized reason": {"reason": "r" * 2001},
    "list for a reason": {"reason": ["withdrawn"]},
    "string for at": {"at": "tomorrow"},
    "number for at": {"at": 20250615},
    "object for at": {"at": {"date": "2025-06-15"}},
    "at before the signature": {"at": "2025-05-01T00:00:00Z"},
}
ACTIONS = ["revoke", "suspend", "resume"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("overrides", EVENT_CASES.values(), ids=EVENT_CASES.keys())
def test_consent_events_refuse_bad_input(world, action, overrides):
    consent = world["consent"]
    if action == "resume":  # a resumption needs a suspension to end
        response = world["client"].post(
            f"/api/v1/consents/{consent.pk}/suspend/",
            {"reason": "Dispute", "at": "2025-06-02T00:00:00Z"},
            format="json",
        )
        assert response.status_code == 200, response.content
    before = counts()
    body = omit_none({"reason": "Withdrawn", "at": "2025-06-15T00:00:00Z", **overrides})
    response = world["client"].post(f"/api/v1/consents/{consent.pk}/{action}/", body, format="json")
    refused(response)
    assert counts() == before


def test_an_event_before_the_last_event_is_refused(world):
    consent = world["consent"]
    url = f"/api/v1/consents/{consent.pk}/"
    response = world["client"].post(
        url + "suspend/", {"reason": "x", "at": "2025-06-12T00:00:00Z"}, format="json"
    )
    assert response.status_code == 200, response.content
    before = counts()
    response = world["client"].post(
        url + "resume/", {"reason": "y", "at": "2025-06-11T00:00:00Z"}, format="json"
    )
    assert set(refused(response)["fields"]) == {"at"}
    assert counts() == before


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("raw", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_consent_events_refuse_malformed_json(world, action, raw):
    before = counts()
    response = world["client"].generic(
        "POST",
        f"/api/v1/consents/{world['consent'].pk}/{action}/",
        raw,
        content_type="application/json",
    )
    refused(response, code="malformed_request")
    assert counts() == before


@pytest.mark.parametrize("action", [*ACTIONS, "evidence", None])
@pytest.mark.parametrize("pk", [HUGE, "-" + HUGE, "abc", "1\x00"])
def test_consent_urls_with_out_of_range_ids_are_404(world, action, pk):
    before = counts()
    url = f"/api/v1/consents/{pk}/" + (f"{action}/" if action else "")
    if action in ACTIONS:
        response = world["client"].post(url, {"reason": "x"}, format="json")
    else:
        response = world["client"].get(url)
    refused(response, status=404, code="not_found")
    assert counts() == before


@pytest.mark.parametrize("url", ["ai-uses", "union-notices", "strike-periods", "wga-disclosures"])
@pytest.mark.parametrize("pk", [HUGE, "-" + HUGE])
def test_record_urls_with_out_of_range_ids_are_404(world, url, pk):
    refused(world["client"].get(f"/api/v1/{url}/{pk}/"), status=404, code="not_found")


@pytest.mark.parametrize("pk", [HUGE, "-" + HUGE, "abc"])
def test_strike_updates_with_out_of_range_ids_are_404(world, pk):
    before = counts()
    response = world["sag_client"].put(
        f"/api/v1/strike-periods/{pk}/", strike_body(ends_on="2026-09-30"), format="json"
    )
    refused(response, status=404, code="not_found")
    response = world["sag_client"].patch(
        f"/api/v1/strike-periods/{pk}/", {"description": "x"}, format="json"
    )
    refused(response, status=404, code="not_found")
    assert counts() == before


# --- the AI-use register ------------------------------------------------------------------------

USE_CASES = {
    "string for a datetime": {"starts_at": "soon"},
    "number for a datetime": {"starts_at": 20250610},
    "string for days": {"days": "several"},
    "object for a flag": {"company_required": {"yes": True}},
    "word for a flag": {"synthetic_source_person": "maybe"},
    "list for a description": {"description": ["scan"]},
    "string for a production id": {"production": "the long light"},
    "unknown kind": {"kind": "hologram"},
    "unknown alteration exception": {"kind": "digital_alteration", "alteration_exception": "whim"},
    "exception on a non-alteration": {"alteration_exception": "cosmetics"},
    "missing production": {"production": None},
    "missing kind": {"kind": None},
    "missing starts_at": {"starts_at": None},
    "missing description": {"description": None},
    "ends_at before starts_at": {"ends_at": "2025-06-10T08:59:59Z"},
    "negative days": {"days": "-1"},
    "huge days": {"days": "10000000"},
    "NaN days": {"days": "NaN"},
    "huge production id": {"production": int(HUGE)},
    "huge person id": {"person": int(HUGE)},
    "negative huge person id": {"person": -int(HUGE)},
    "NUL in description": {"description": "scan\x00"},
    "NUL in scenes": {"scenes": "\x00"},
    "oversized scenes": {"scenes": "s" * 501},
    "no person for a replica": {"person": None},
    "before any agreement": {"starts_at": "2020-01-01T00:00:00Z"},
    "a use kind the agreement has no rule for": {"kind": "writer_ai_use"},
    "year out of range": {"starts_at": "10000-01-01T00:00:00Z"},
}


def _use_body(world, overrides):
    body = use_body(world["ann"], world["production"])
    body.update(overrides)
    return {k: v for k, v in body.items() if not (v is None and k != "person")}


@pytest.mark.parametrize("overrides", USE_CASES.values(), ids=USE_CASES.keys())
def test_ai_use_create_refuses_bad_input(world, overrides):
    before = counts()
    response = world["client"].post("/api/v1/ai-uses/", _use_body(world, overrides), format="json")
    refused(response)
    assert counts() == before


def test_a_use_without_a_person_field_is_read_as_no_person(world):
    """Regression (found by `make fuzz`): leaving `person` out (it is optional) reached the
    service without it, a TypeError and a 500; it now means null, refused for a replica."""
    body = _use_body(world, {})
    del body["person"]
    before = counts()
    response = world["client"].post("/api/v1/ai-uses/", body, format="json")
    null_person = world["client"].post(
        "/api/v1/ai-uses/", _use_body(world, {"person": None}), format="json"
    )
    assert refused(response) == refused(null_person)
    assert counts() == before


def test_ai_use_refusals_name_the_field(world):
    cases = {
        "ends_at": {"ends_at": "2025-06-10T08:59:59Z"},
        "kind": {"kind": "hologram"},
        "person": {"person": int(HUGE)},
        "production": {"production": int(HUGE)},
        "alteration_exception": {"alteration_exception": "cosmetics"},
        "days": {"days": "-1"},
    }
    for field, overrides in cases.items():
        response = world["client"].post(
            "/api/v1/ai-uses/", _use_body(world, overrides), format="json"
        )
        assert field in refused(response)["fields"], (field, response.json())


# --- union notices, strike periods, WGA disclosures -------------------------------------------

NOTICE_CASES = {
    "unknown kind": {"kind": "smoke_signal"},
    "unknown guild": {"guild": "equity"},
    "notice to the wrong guild": {"guild": "wga"},
    "missing kind": {"kind": None},
    "missing guild": {"guild": None},
    "missing given_at": {"given_at": None},
    "missing description": {"description": None},
    "string for given_at": {"given_at": "last week"},
    "object for a production": {"production": {"id": 1}},
    "huge production id": {"production": int(HUGE)},
    "NUL in recipient": {"recipient": "SAG\x00"},
    "NUL in description": {"description": "\x00"},
    "oversized recipient": {"recipient": "r" * 201},
}


@pytest.mark.parametrize("overrides", NOTICE_CASES.values(), ids=NOTICE_CASES.keys())
def test_union_notice_create_refuses_bad_input(world, overrides):
    before = counts()
    body = omit_none(notice_body(world, **overrides))
    response = world["client"].post("/api/v1/union-notices/", body, format="json")
    refused(response)
    assert counts() == before


STRIKE_CASES = {
    "ends_on before starts_on": {"ends_on": "2026-08-31"},
    "unknown guild": {"guild": "equity"},
    "missing guild": {"guild": None},
    "missing starts_on": {"starts_on": None},
    "string for a date": {"starts_on": "next month"},
    "datetime for a date": {"starts_on": 20260901},
    "list for a description": {"description": ["strike"]},
    "NUL in description": {"description": "strike\x00"},
    "oversized description": {"description": "d" * 301},
}


@pytest.mark.parametrize("overrides", STRIKE_CASES.values(), ids=STRIKE_CASES.keys())
def test_strike_period_create_refuses_bad_input(world, overrides):
    before = counts()
    body = omit_none(strike_body(**overrides))
    response = world["sag_client"].post("/api/v1/strike-periods/", body, format="json")
    refused(response)
    assert counts() == before


@pytest.mark.parametrize("overrides", STRIKE_CASES.values(), ids=STRIKE_CASES.keys())
def test_strike_period_update_refuses_bad_input(world, overrides):
    strike = world["strike"]
    before = counts()
    body = omit_none(strike_body(**{"starts_on": "2026-09-01", **overrides}))
    response = world["sag_client"].put(f"/api/v1/strike-periods/{strike.pk}/", body, format="json")
    refused(response)
    assert counts() == before
    strike.refresh_from_db()
    assert (str(strike.starts_on), strike.ends_on) == ("2026-08-01", None)


def test_a_strike_cannot_change_guild(world):
    strike = world["strike"]
    before = counts()
    response = world["sag_client"].put(
        f"/api/v1/strike-periods/{strike.pk}/",
        strike_body(guild="wga", starts_on="2026-08-01"),
        format="json",
    )
    assert set(refused(response)["fields"]) == {"guild"}
    assert counts() == before


@pytest.mark.parametrize(
    "overrides",
    [{"ends_on": "2026-07-31"}, {"ends_on": "not a date"}, {"ends_on": "2026-07-31", "x": 1}],
    ids=["ends_on before starts_on", "string for ends_on", "with an unknown key"],
)
def test_strike_period_patch_refuses_bad_input(world, overrides):
    """(Regression: a PATCH naming ends_on without starts_on was a KeyError, 500.)"""
    strike = world["strike"]
    before = counts()
    response = world["sag_client"].patch(
        f"/api/v1/strike-periods/{strike.pk}/", overrides, format="json"
    )
    refused(response)
    assert counts() == before
    # A valid PATCH of the end date must work too (the documented way to end a strike).
    response = world["sag_client"].patch(
        f"/api/v1/strike-periods/{strike.pk}/", {"ends_on": "2026-09-30"}, format="json"
    )
    assert response.status_code == 200, response.content


DISCLOSURE_CASES = {
    "missing material": {"material": None},
    "empty material": {"material": ""},
    "missing writer": {"writer": None},
    "missing handed_over_on": {"handed_over_on": None},
    "missing disclosed_at": {"disclosed_at": None},
    "string for a date": {"handed_over_on": "last week"},
    "string for a datetime": {"disclosed_at": "earlier"},
    "object for a writer": {"writer": {"id": 1}},
    "huge writer id": {"writer": int(HUGE)},
    "huge production id": {"production": int(HUGE)},
    "NUL in material": {"material": "outline\x00"},
}


@pytest.mark.parametrize("overrides", DISCLOSURE_CASES.values(), ids=DISCLOSURE_CASES.keys())
def test_wga_disclosure_create_refuses_bad_input(world, overrides):
    before = counts()
    body = omit_none(disclosure_body(world, **overrides))
    response = world["client"].post("/api/v1/wga-disclosures/", body, format="json")
    refused(response)
    assert counts() == before


WRITE_URLS = {
    "ai-uses": "/api/v1/ai-uses/",
    "union-notices": "/api/v1/union-notices/",
    "wga-disclosures": "/api/v1/wga-disclosures/",
    "consents": "/api/v1/consents/",
    "consent-checks": "/api/v1/consent-checks/",
    "consent-checks/batch": "/api/v1/consent-checks/batch/",
}


@pytest.mark.parametrize("url", WRITE_URLS.values(), ids=WRITE_URLS.keys())
@pytest.mark.parametrize("raw", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_is_refused(world, url, raw):
    before = counts()
    response = world["client"].generic("POST", url, raw, content_type="application/json")
    refused(response, code="malformed_request")
    assert counts() == before


@pytest.mark.parametrize("raw", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_to_strike_periods_is_refused(world, raw):
    before = counts()
    for method, url in [
        ("POST", "/api/v1/strike-periods/"),
        ("PUT", f"/api/v1/strike-periods/{world['strike'].pk}/"),
        ("PATCH", f"/api/v1/strike-periods/{world['strike'].pk}/"),
    ]:
        response = world["sag_client"].generic(method, url, raw, content_type="application/json")
        refused(response, code="malformed_request")
    assert counts() == before


@pytest.mark.parametrize("url", WRITE_URLS.values(), ids=WRITE_URLS.keys())
@pytest.mark.parametrize(
    "body", [[], [1, 2], "text", 42, None], ids=["empty list", "list", "string", "number", "null"]
)
def test_a_body_that_is_not_an_object_is_refused(world, url, body):
    before = counts()
    response = world["client"].generic(
        "POST", url, json.dumps(body), content_type="application/json"
    )
    refused(response)
    assert counts() == before


# --- the consent check --------------------------------------------------------------------------

CHECK_CASES = {
    "string for a person id": {"person": "1"},
    "bool for a person id": {"person": True},
    "float for a production id": {"production": 1.0},
    "zero production id": {"production": 0},
    "negative person id": {"person": -1},
    "huge person id": {"person": int(HUGE)},
    "2**63 production id": {"production": 2**63},
    "missing production": {"production": None},
    "unknown use kind": {"use_kind": "hologram"},
    "missing use kind": {"use_kind": None},
    "unknown alteration exception": {"use_kind": "digital_alteration", "alteration_exception": "x"},
    "missing on": {"on": None},
    "malformed on": {"on": "next week"},
    "number for on": {"on": 20250610},
    "NUL in on": {"on": "2025-06-1\x00"},
    "until before on": {"until": "2025-06-09T00:00:00Z"},
    "malformed until": {"until": "later"},
    "string for a flag": {"company_required": "yes"},
    "number for a flag": {"material_handed_over": 1},
    "unknown field": {"when": "now"},
    "no person for a replica": {"person": None},
    "before any agreement": {"on": "2020-01-01"},
    "a use kind the agreement has no rule for": {"use_kind": "writer_ai_use"},
}


def _check(world, overrides):
    body = check_body(world["ann"], world["production"])
    body.update(overrides)
    return {k: v for k, v in body.items() if not (v is None and k not in ("person",))}


@pytest.mark.parametrize("overrides", CHECK_CASES.values(), ids=CHECK_CASES.keys())
def test_the_check_refuses_bad_input(world, overrides):
    before = counts()
    response = world["client"].post(
        "/api/v1/consent-checks/", _check(world, overrides), format="json"
    )
    refused(response)
    assert counts() == before


@pytest.mark.parametrize("overrides", CHECK_CASES.values(), ids=CHECK_CASES.keys())
def test_the_batch_refuses_a_malformed_check_as_a_whole_or_answers_with_an_error(world, overrides):
    """A malformed check refuses the whole batch (400, naming the item); a well-formed check
    that cannot be answered gets an `error` in its place."""
    good = check_body(world["ann"], world["production"])
    before = counts()
    response = world["client"].post(
        "/api/v1/consent-checks/batch/", {"checks": [good, _check(world, overrides)]}, format="json"
    )
    assert counts() == before
    if response.status_code == 200:
        results = response.json()["results"]
        assert results[0]["allowed"] is True
        assert set(results[1]) == {"error"}
        assert set(results[1]["error"]) == {"code", "message", "fields"}
        return
    body = refused(response)
    assert all(key.startswith("checks[1].") for key in body["fields"]), body


@pytest.mark.parametrize(
    "checks",
    [{"person": 1}, "checks", 3, None, True],
    ids=["object", "string", "number", "null", "bool"],
)
def test_the_batch_refuses_checks_that_are_not_a_list(world, checks):
    before = counts()
    response = world["client"].post(
        "/api/v1/consent-checks/batch/", {"checks": checks}, format="json"
    )
    assert set(refused(response)["fields"]) == {"checks"}
    assert counts() == before


def test_the_batch_refuses_a_body_without_checks(world):
    response = world["client"].post("/api/v1/consent-checks/batch/", {}, format="json")
    assert set(refused(response)["fields"]) == {"checks"}


@pytest.mark.parametrize("item", [1, "check", None, [1]], ids=["number", "string", "null", "list"])
def test_the_batch_refuses_an_item_that_is_not_an_object(world, item):
    good = check_body(world["ann"], world["production"])
    response = world["client"].post(
        "/api/v1/consent-checks/batch/", {"checks": [good, item]}, format="json"
    )
    assert set(refused(response)["fields"]) == {"checks[1].non_field_errors"}


EXTREME_INSTANTS = {
    "year 9999 west of UTC": "9999-12-31T23:59:59-01:00",
    "year 1 east of UTC": "0001-01-01T00:00:00+01:00",
}


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
@pytest.mark.parametrize("field", ["on", "until"])
@pytest.mark.parametrize("value", EXTREME_INSTANTS.values(), ids=EXTREME_INSTANTS.keys())
def test_the_check_refuses_instants_outside_the_calendar(world, field, value, batch):
    """An offset that moves the instant out of years 1-9999 in UTC is invalid input.
    (Regression: whatif.instant let astimezone's OverflowError through, a 500.)"""
    overrides = {field: value}
    if field == "until":
        overrides["on"] = "0001-01-01T00:00:00Z" if value.startswith("0001") else "2025-06-10"
    check = _check(world, overrides)
    if batch:
        response = world["client"].post(
            "/api/v1/consent-checks/batch/", {"checks": [check]}, format="json"
        )
        assert set(refused(response)["fields"]) == {f"checks[0].{field}"}
    else:
        response = world["client"].post("/api/v1/consent-checks/", check, format="json")
        assert set(refused(response)["fields"]) == {field}


# --- the answers are what the schema says (found by `make fuzz`) --------------------------------


def test_consent_and_ai_use_answers_match_the_schema(world, media):
    """Regression: `superseded_by` is null on a consent nothing superseded, a use's
    `alteration_exception` is "" unless it is a digital alteration, and evidence comes back in its
    own content type; the schema said integer, one of the exceptions, and octet-stream only."""
    client = world["client"]
    consent = world["consent"]
    response = client.get(f"/api/v1/consents/{consent.pk}/")
    assert response.json()["superseded_by"] is None
    assert_matches_schema(response, "GET", "/api/v1/consents/{id}/")

    created = client.post(
        "/api/v1/ai-uses/", use_body(world["ann"], world["production"]), format="json"
    )
    assert created.status_code == 201, created.content
    response = client.get(f"/api/v1/ai-uses/{created.json()['id']}/")
    assert response.json()["alteration_exception"] == ""
    assert_matches_schema(response, "GET", "/api/v1/ai-uses/{id}/")

    response = client.get(f"/api/v1/consents/{consent.pk}/evidence/")
    assert response["Content-Type"] == "application/pdf"
    assert_matches_schema(response, "GET", "/api/v1/consents/{id}/evidence/")
