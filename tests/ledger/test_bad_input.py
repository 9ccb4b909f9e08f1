"""Bad input never writes and never breaks: every refusal is a 4xx with the one JSON error shape
`{"code", "message", "fields"}`, and the registry (rows and history) is left exactly as it was."""

import base64
import json

import pytest
from rest_framework.test import APIClient

from ledger.models import (
    Engagement,
    Membership,
    Person,
    Production,
    ProductionAgreement,
    Studio,
)
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    guild,
    studio_staff,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
AUDITED = [Person, Production, Engagement, Membership, ProductionAgreement, Studio]


def snapshot() -> dict:
    counts = {}
    for model in AUDITED:
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    return counts


@pytest.fixture
def world():
    """One studio with a staff user, a theatrical production under sag-tvth-2023, a person it
    registered (a SAG-AFTRA member) and an engagement of that person."""
    studio = StudioFactory(slug="meridian")
    user = studio_staff(studio, "maya")
    production = ProductionFactory(studio=studio, title="The Long Light")
    ProductionAgreementFactory(production=production, agreement=agreement("sag-tvth-2023"))
    person = PersonFactory(registered_by=studio)
    MembershipFactory(person=person, guild=guild("sag-aftra"), member_number="SAG-1")
    engagement = EngagementFactory(person=person, production=production)
    client = APIClient()
    client.force_authenticate(user)
    return {
        "studio": studio,
        "user": user,
        "production": production,
        "person": person,
        "engagement": engagement,
        "client": client,
    }


def production_body(**overrides):
    body = {
        "studio": "meridian",
        "title": "Harbor Nights",
        "kind": "theatrical",
        "start_date": "2026-07-06",
    }
    body.update(overrides)
    return body


def engagement_body(world, **overrides):
    body = {
        "person": world["person"].pk,
        "production": world["production"].pk,
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "rate": {"amount": "1500.00", "unit": "day", "currency": "USD"},
        "start_date": "2025-06-02",
    }
    body.update(overrides)
    return body


def person_body(**overrides):
    body = {
        "legal_name": "Rosa Lin",
        "memberships": [{"guild": "wga", "member_number": "WGA-9"}],
    }
    body.update(overrides)
    return body


# --- the good bodies are good: the bad cases below fail for the reason they name ---------------


def test_the_baseline_bodies_are_accepted(world):
    client = world["client"]
    ProductionAgreementFactory(production=world["production"], agreement=agreement("wga-mba-2023"))
    assert client.post("/api/v1/productions/", production_body(), format="json").status_code == 201
    response = client.post(
        "/api/v1/engagements/",
        engagement_body(world, agreement="wga-mba-2023", classification="writer"),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert client.post("/api/v1/people/", person_body(), format="json").status_code == 201


# --- creating productions ----------------------------------------------------------------------

PRODUCTION_CREATE_CASES = {
    "string for a date": {"start_date": "next tuesday"},
    "int for a date": {"start_date": 20260706},
    "object for an int": {"kind": "television", "episode_minutes": {"minutes": 60}},
    "list for a string": {"title": ["Harbor", "Nights"]},
    "object for a string": {"title": {"en": "Harbor Nights"}},
    "bool for a slug": {"studio": True},
    "unknown studio": {"studio": "nowhere"},
    "reversed dates": {"start_date": "2026-07-06", "end_date": "2026-07-05"},
    "television without episode_minutes": {"kind": "television"},
    "television with zero episode_minutes": {"kind": "television", "episode_minutes": 0},
    "episode_minutes on a film": {"kind": "theatrical", "episode_minutes": 60},
    "negative episode_minutes": {"kind": "television", "episode_minutes": -30},
    "huge episode_minutes": {"kind": "television", "episode_minutes": 10**30},
    "unknown kind": {"kind": "opera"},
    "unknown status": {"status": "shelved"},
    "oversized title": {"title": "x" * 10_000},
    "NUL in title": {"title": "Harbor\x00Nights"},
    "NUL in studio slug": {"studio": "meri\x00dian"},
    "duplicate title in the studio": {"title": "The Long Light"},
    "missing title": {"title": None},
    "empty title": {"title": ""},
}


@pytest.mark.parametrize(
    "overrides", PRODUCTION_CREATE_CASES.values(), ids=PRODUCTION_CREATE_CASES.keys()
)
def test_production_create_refuses_bad_input(world, overrides):
    before = snapshot()
    response = world["client"].post(
        "/api/v1/productions/", production_body(**overrides), format="json"
    )
    assert_error(response)
    assert response.status_code in (400, 409)
    assert snapshot() == before


def test_duplicate_production_title_names_the_conflict(world):
    before = snapshot()
    response = world["client"].post(
        "/api/v1/productions/", production_body(title="The Long Light"), format="json"
    )
    body = assert_error(response)
    assert response.status_code in (400, 409)
    assert "title" in body["message"].lower() or "title" in json.dumps(body["fields"]).lower()
    assert snapshot() == before


# --- changing productions ----------------------------------------------------------------------

PRODUCTION_UPDATE_CASES = {
    "end before start": {"end_date": "2025-06-01"},
    "string for a date": {"end_date": "soon"},
    "television without episode_minutes": {"kind": "television"},
    "list for a string": {"title": ["a"]},
    "NUL in title": {"title": "\x00"},
    "oversized title": {"title": "t" * 10_000},
    "object for an int": {"episode_minutes": {"n": 1}},
    # (found by `make fuzz`: the studio was ignored on update, whatever it said)
    "unknown studio": {"studio": "elsewhere"},
    "empty studio": {"studio": ""},
}


@pytest.mark.parametrize(
    "overrides", PRODUCTION_UPDATE_CASES.values(), ids=PRODUCTION_UPDATE_CASES.keys()
)
def test_production_update_refuses_bad_input(world, overrides):
    production = world["production"]
    before = snapshot()
    response = world["client"].patch(
        f"/api/v1/productions/{production.pk}/", overrides, format="json"
    )
    assert_error(response, status=400)
    assert snapshot() == before
    production.refresh_from_db()
    assert production.title == "The Long Light"
    assert production.end_date is None and production.kind == "theatrical"


def test_production_update_to_a_taken_title_is_refused(world):
    ProductionFactory(studio=world["studio"], title="Harbor Nights")
    before = snapshot()
    response = world["client"].patch(
        f"/api/v1/productions/{world['production'].pk}/",
        {"title": "Harbor Nights"},
        format="json",
    )
    assert_error(response)
    assert response.status_code in (400, 409)
    assert snapshot() == before


def test_a_production_stays_with_its_studio(world, django_user_model):
    StudioFactory(slug="elsewhere")
    admin = APIClient()
    admin.force_authenticate(django_user_model.objects.create_superuser("root", "r@x.test", "pw"))
    before = snapshot()
    production = world["production"]
    response = admin.patch(
        f"/api/v1/productions/{production.pk}/", {"studio": "elsewhere"}, format="json"
    )
    body = assert_error(response, status=400, code="invalid")
    assert body["fields"]["studio"] == [
        "Fixed when the record was made: an update may repeat it, not change it."
    ]
    assert snapshot() == before


def test_an_update_may_name_the_productions_own_studio(world):
    StudioFactory(slug="elsewhere")
    production = world["production"]
    body = production_body(title="The Long Light, Part Two")
    response = world["client"].put(f"/api/v1/productions/{production.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    production.refresh_from_db()
    assert (production.studio.slug, production.title) == ("meridian", "The Long Light, Part Two")


def test_a_whole_rate_in_a_patch_changes_the_rate(world):
    engagement = world["engagement"]
    rate = {"amount": "1600.00", "unit": "day"}
    response = world["client"].patch(
        f"/api/v1/engagements/{engagement.pk}/", {"rate": rate}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["rate"] == {**rate, "currency": "USD"}


# --- creating and changing engagements ---------------------------------------------------------


def _engagement_cases():
    return {
        "string for a date": lambda w: {"start_date": "the first day"},
        "int for a date": lambda w: {"start_date": 20250602},
        "object for an int id": lambda w: {"person": {"id": w["person"].pk}},
        "string for an int id": lambda w: {"production": "The Long Light"},
        "list for a string": lambda w: {"role": ["Captain", "Mate"]},
        "string for the rate object": lambda w: {"rate": "1500.00"},
        "list for the rate object": lambda w: {"rate": ["1500.00", "day"]},
        "unknown person": lambda w: {"person": 987654321},
        "unknown production": lambda w: {"production": 987654321},
        "huge person id": lambda w: {"person": int(HUGE)},
        "huge production id": lambda w: {"production": int(HUGE)},
        "negative person id": lambda w: {"person": -1},
        # (found by `make fuzz`: ids are JSON integers; 7.9 was looked up as row 7)
        "fraction for an id": lambda w: {"person": w["person"].pk + 0.9},
        "whole float for an id": lambda w: {"person": float(w["person"].pk)},
        "string digits for an id": lambda w: {"production": str(w["production"].pk)},
        "bool for an id": lambda w: {"production": True},
        "reversed dates": lambda w: {"start_date": "2025-06-10", "end_date": "2025-06-09"},
        "negative rate": lambda w: {"rate": {"amount": "-1500.00", "unit": "day"}},
        "zero rate": lambda w: {"rate": {"amount": "0", "unit": "day"}},
        "zero rate with cents": lambda w: {"rate": {"amount": "0.00", "unit": "day"}},
        "too many decimal places": lambda w: {"rate": {"amount": "1500.001", "unit": "day"}},
        "too many digits": lambda w: {"rate": {"amount": "1" * 13 + ".00", "unit": "day"}},
        "NaN rate": lambda w: {"rate": {"amount": "NaN", "unit": "day"}},
        "infinite rate": lambda w: {"rate": {"amount": "Infinity", "unit": "day"}},
        "object for the amount": lambda w: {"rate": {"amount": {"v": 1}, "unit": "day"}},
        # (found by `make fuzz`: amounts are strings; a JSON number passes through a float)
        "number for the amount": lambda w: {"rate": {"amount": 1500, "unit": "day"}},
        "fraction for the amount": lambda w: {"rate": {"amount": 1500.5, "unit": "day"}},
        "unknown rate unit": lambda w: {"rate": {"amount": "1500.00", "unit": "fortnight"}},
        "unknown currency": lambda w: {
            "rate": {"amount": "1500.00", "unit": "day", "currency": "XYZ"}
        },
        "unknown agreement code": lambda w: {"agreement": "sag-tvth-1999"},
        "NUL in agreement code": lambda w: {"agreement": "sag-tvth\x002023"},
        "object for agreement code": lambda w: {"agreement": {"code": "sag-tvth-2023"}},
        "unknown classification": lambda w: {"classification": "stunt_wizard"},
        "writer under a SAG-AFTRA agreement": lambda w: {"classification": "writer"},
        "crew under a SAG-AFTRA agreement": lambda w: {"classification": "crew_hourly"},
        "agreement not attached to the production": lambda w: {"agreement": "sag-tvth-2026"},
        "oversized role": lambda w: {"role": "r" * 10_000},
        "NUL in role": lambda w: {"role": "Cap\x00tain"},
    }


ENGAGEMENT_CASES = _engagement_cases()


@pytest.mark.parametrize("make", ENGAGEMENT_CASES.values(), ids=ENGAGEMENT_CASES.keys())
def test_engagement_create_refuses_bad_input(world, make):
    before = snapshot()
    response = world["client"].post(
        "/api/v1/engagements/", engagement_body(world, **make(world)), format="json"
    )
    assert_error(response, status=400)
    assert snapshot() == before


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"classification": "writer"}, "classification"),
        ({"agreement": "sag-tvth-2026"}, "agreement"),
    ],
    ids=["wrong guild", "not attached"],
)
def test_engagement_refusals_name_the_field(world, overrides, field):
    response = world["client"].post(
        "/api/v1/engagements/", engagement_body(world, **overrides), format="json"
    )
    body = assert_error(response, status=400, code="invalid")
    assert field in body["fields"], body


ENGAGEMENT_UPDATE_CASES = {
    "end before start": {"end_date": "2025-06-01"},
    "zero rate": {"rate": {"amount": "0.00", "unit": "day"}},
    "negative rate": {"rate": {"amount": "-5", "unit": "day"}},
    "too many decimal places": {"rate": {"amount": "10.555", "unit": "day"}},
    "wrong-guild classification": {"classification": "crew_weekly"},
    "unattached agreement": {"agreement": "wga-mba-2023"},
    "unknown agreement": {"agreement": "nope"},
    "unknown classification": {"classification": "x"},
    # (found by `make fuzz`: a rate changes whole, amount and unit, in a PATCH too)
    "rate without amount and unit": {"rate": {"currency": "USD"}},
    "rate without unit": {"rate": {"amount": "1600.00"}},
    # (found by `make fuzz`: the person and production were ignored on update, whatever they said)
    "another person": {"person": 987654321},
    "a float for the production": {"production": -3.0e-143},
}

ENGAGEMENT_FIXED_CASES = {
    "another production": lambda w: {"production": ProductionFactory(studio=w["studio"]).pk},
    "another person": lambda w: {"person": PersonFactory(registered_by=w["studio"]).pk},
}


@pytest.mark.parametrize(
    "overrides", ENGAGEMENT_UPDATE_CASES.values(), ids=ENGAGEMENT_UPDATE_CASES.keys()
)
def test_engagement_update_refuses_bad_input(world, overrides):
    engagement = world["engagement"]
    before = snapshot()
    response = world["client"].patch(
        f"/api/v1/engagements/{engagement.pk}/", overrides, format="json"
    )
    assert_error(response, status=400)
    assert snapshot() == before
    engagement.refresh_from_db()
    assert engagement.agreement.code == "sag-tvth-2023"
    assert engagement.classification == "day_performer"
    assert str(engagement.rate_amount) == "1500.00" and engagement.end_date is None


@pytest.mark.parametrize("make", ENGAGEMENT_FIXED_CASES.values(), ids=ENGAGEMENT_FIXED_CASES.keys())
def test_an_engagement_keeps_its_person_and_production(world, make):
    overrides = make(world)
    before = snapshot()
    engagement = world["engagement"]
    response = world["client"].patch(
        f"/api/v1/engagements/{engagement.pk}/", overrides, format="json"
    )
    body = assert_error(response, status=400, code="invalid")
    assert set(body["fields"]) == set(overrides)
    assert snapshot() == before


def test_an_engagement_update_may_repeat_its_person_and_production(world):
    engagement = world["engagement"]
    body = engagement_body(world, role="Harbor pilot")
    response = world["client"].put(f"/api/v1/engagements/{engagement.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    engagement.refresh_from_db()
    assert (engagement.person, engagement.role) == (world["person"], "Harbor pilot")


# --- attaching and detaching agreements --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"agreement": "sag-tvth-1999"},
        {"agreement": ""},
        {"agreement": None},
        {"agreement": ["sag-tvth-2026"]},
        {"agreement": {"code": "sag-tvth-2026"}},
        {"agreement": "sag\x00"},
        {"agreement": "a" * 10_000},
        {},
    ],
    ids=["unknown code", "empty", "null", "list", "object", "NUL", "oversized", "missing"],
)
@pytest.mark.parametrize("action", ["attach", "detach"])
def test_attach_and_detach_refuse_bad_agreement(world, action, body):
    before = snapshot()
    response = world["client"].post(
        f"/api/v1/productions/{world['production'].pk}/{action}/", body, format="json"
    )
    assert_error(response, status=400)
    assert snapshot() == before


def test_detaching_an_agreement_in_use_is_a_conflict(world):
    production = world["production"]
    before = snapshot()
    response = world["client"].post(
        f"/api/v1/productions/{production.pk}/detach/",
        {"agreement": "sag-tvth-2023"},
        format="json",
    )
    assert_error(response, status=409, code="agreement_in_use")
    assert snapshot() == before
    assert production.attachments.filter(agreement__code="sag-tvth-2023").exists()


@pytest.mark.parametrize("action", ["attach", "detach"])
def test_attach_and_detach_on_an_unknown_production_is_404(world, action):
    before = snapshot()
    for pk in ("987654321", HUGE, "-1", "abc"):
        response = world["client"].post(
            f"/api/v1/productions/{pk}/{action}/", {"agreement": "sag-tvth-2026"}, format="json"
        )
        assert_error(response, status=404, code="not_found")
    assert snapshot() == before


# --- people ------------------------------------------------------------------------------------

PERSON_CASES = {
    "duplicate member number": {"memberships": [{"guild": "sag-aftra", "member_number": "SAG-1"}]},
    "two memberships of one guild": {
        "memberships": [
            {"guild": "wga", "member_number": "WGA-1"},
            {"guild": "wga", "member_number": "WGA-2"},
        ]
    },
    "unknown guild": {"memberships": [{"guild": "actors-equity", "member_number": "AE-1"}]},
    "empty member number": {"memberships": [{"guild": "wga", "member_number": ""}]},
    "object for memberships": {"memberships": {"guild": "wga", "member_number": "WGA-9"}},
    "list for a string": {"legal_name": ["Rosa", "Lin"]},
    "object for a string": {"legal_name": {"first": "Rosa"}},
    "NUL in name": {"legal_name": "Rosa\x00Lin"},
    "NUL in member number": {"memberships": [{"guild": "wga", "member_number": "W\x00"}]},
    "oversized name": {"legal_name": "n" * 10_000},
    "string for a date": {"is_deceased": True, "date_of_death": "last year"},
    "date of death without is_deceased": {"date_of_death": "2024-01-01"},
    "representative without is_deceased": {"authorized_representative": "An Heir"},
    "invalid email": {"email": "not-an-email"},
    "object for a bool": {"is_deceased": {"yes": True}},
    # (found by `make fuzz`: a boolean is JSON true or false, not 1 or "yes")
    "number for a bool": {"is_deceased": 1},
    "word for a bool": {"is_deceased": "yes"},
    "string true for a bool": {"is_deceased": "true"},
    "unknown registering studio": {"registered_by": "nowhere"},
}


@pytest.mark.parametrize("overrides", PERSON_CASES.values(), ids=PERSON_CASES.keys())
def test_person_create_refuses_bad_input(world, overrides):
    before = snapshot()
    response = world["client"].post("/api/v1/people/", person_body(**overrides), format="json")
    assert_error(response, status=400)
    assert snapshot() == before


def test_duplicate_member_number_names_memberships(world):
    response = world["client"].post(
        "/api/v1/people/",
        person_body(memberships=[{"guild": "sag-aftra", "member_number": "SAG-1"}]),
        format="json",
    )
    body = assert_error(response, status=400, code="invalid")
    assert "memberships" in body["fields"]


def test_taking_someone_elses_member_number_on_update_is_refused(world):
    other = PersonFactory(registered_by=world["studio"])
    before = snapshot()
    response = world["client"].patch(
        f"/api/v1/people/{other.pk}/",
        {"memberships": [{"guild": "sag-aftra", "member_number": "SAG-1"}]},
        format="json",
    )
    assert_error(response, status=400)
    assert snapshot() == before
    assert not other.memberships.exists()


@pytest.mark.parametrize("membership", [{"member_number": "SAG-2"}, {"guild": "wga"}, {}])
def test_a_membership_without_its_guild_or_number_is_refused_on_update(world, membership):
    """Regression (found by `make fuzz`): a PATCH validates partially, which let a membership
    without its guild through to a KeyError, a 500."""
    person = world["person"]
    before = snapshot()
    response = world["client"].patch(
        f"/api/v1/people/{person.pk}/", {"memberships": [membership]}, format="json"
    )
    body = assert_error(response, status=400, code="invalid")
    assert "memberships" in body["fields"]
    assert snapshot() == before


# --- malformed requests ------------------------------------------------------------------------

BODY_ENDPOINTS = ["/api/v1/productions/", "/api/v1/engagements/", "/api/v1/people/"]


@pytest.mark.parametrize("url", BODY_ENDPOINTS)
@pytest.mark.parametrize(
    "raw",
    ['{"title": ', "{'title': 'x'}", "[1, 2", "\x00", '{"title": "x"}}', "NaN-ish"],
    ids=["truncated", "single quotes", "unclosed list", "NUL", "trailing brace", "not json"],
)
def test_malformed_json_is_refused(world, url, raw):
    before = snapshot()
    response = world["client"].post(url, data=raw, content_type="application/json")
    assert_error(response, status=400, code="malformed_request")
    assert snapshot() == before


@pytest.mark.parametrize("url", BODY_ENDPOINTS)
@pytest.mark.parametrize("body", ["[]", "null", "42", '"a string"', "[{}]"])
def test_json_that_is_not_an_object_is_refused(world, url, body):
    before = snapshot()
    response = world["client"].post(url, data=body, content_type="application/json")
    assert_error(response, status=400)
    assert snapshot() == before


@pytest.mark.parametrize("url", BODY_ENDPOINTS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "text/csv", "application/octet-stream"]
)
def test_a_non_json_content_type_is_refused(world, url, content_type):
    before = snapshot()
    response = world["client"].post(
        url, data=json.dumps(production_body()), content_type=content_type
    )
    assert_error(response, status=415, code="unsupported_media_type")
    assert snapshot() == before


def test_a_non_json_content_type_on_update_is_refused(world):
    before = snapshot()
    response = world["client"].patch(
        f"/api/v1/productions/{world['production'].pk}/",
        data='{"title": "Renamed"}',
        content_type="text/plain",
    )
    assert_error(response, status=415, code="unsupported_media_type")
    assert snapshot() == before


# --- URLs and query strings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/productions/{HUGE}/",
        f"/api/v1/engagements/{HUGE}/",
        f"/api/v1/people/{HUGE}/",
        f"/api/v1/studios/{HUGE}/",
        f"/api/v1/productions/-{HUGE}/",
        "/api/v1/productions/987654321/",
        "/api/v1/productions/abc/",
        "/api/v1/productions/1e5/",
        "/api/v1/productions/%00/",
        "/api/v1/agreements/nope/",
        "/api/v1/agreements/sag%00/",
        "/api/v1/guilds/" + "g" * 5000 + "/",
        "/api/v1/nowhere/",
    ],
)
def test_unknown_or_absurd_ids_in_the_url_are_404(world, path):
    before = snapshot()
    assert_error(world["client"].get(path), status=404, code="not_found")
    assert_error(world["client"].patch(path, {"title": "x"}, format="json"), status=None, code=None)
    assert snapshot() == before


@pytest.mark.parametrize("method", ["patch", "put"])
def test_changing_a_huge_id_is_404_and_writes_nothing(world, method):
    before = snapshot()
    response = getattr(world["client"], method)(
        f"/api/v1/productions/{HUGE}/", production_body(), format="json"
    )
    assert_error(response, status=404, code="not_found")
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        f"/api/v1/engagements/?production={HUGE}",
        f"/api/v1/engagements/?person={HUGE}",
        f"/api/v1/engagements/?production=-{HUGE}",
        f"/api/v1/engagements/?production={2**63}",
        "/api/v1/engagements/?production=1e30",
        f"/api/v1/people/?production={HUGE}",
    ],
)
def test_huge_integers_in_filters_are_refused(world, query):
    body = assert_error(world["client"].get(query), status=400, code="invalid")
    assert body["fields"]


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/engagements/?production=987654321",
        f"/api/v1/engagements/?person={2**63 - 1}",
        "/api/v1/engagements/?production=-1",
        "/api/v1/people/?production=987654321",
    ],
)
def test_ids_in_range_that_name_nothing_are_refused_not_an_empty_page(world, query):
    body = assert_error(world["client"].get(query), status=400, code="invalid")
    (field,) = body["fields"]
    assert body["fields"][field] == [f"No {field} {query.rsplit('=', 1)[1]} that you can see."]


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/engagements/?production=abc",
        "/api/v1/engagements/?person=%7B%7D",
        "/api/v1/engagements/?production=NaN",
        "/api/v1/engagements/?production=Infinity",
        "/api/v1/engagements/?active_on=yesterday",
        "/api/v1/engagements/?classification=stunt_wizard",
        "/api/v1/engagements/?studio=" + "s" * 10_000,
        "/api/v1/engagements/?agreement=a%00b",
        "/api/v1/productions/?title=%00",
        "/api/v1/productions/?title=" + "t" * 10_000,
        "/api/v1/productions/?kind=opera",
        "/api/v1/productions/?status=shelved",
        "/api/v1/people/?name=%00",
        "/api/v1/engagements/?production=1.5",
        "/api/v1/people/?production=abc",
        # (found by `make fuzz`: any text but true/false was read as "no filter")
        "/api/v1/people/?is_deceased=null",
        "/api/v1/people/?is_deceased=0.5",
        "/api/v1/engagements/?production=1.0",  # (found by `make fuzz`)
        "/api/v1/engagements/?production=%D9%A1",  # Arabic-Indic one (found by `make fuzz`)
        "/api/v1/people/?guild=" + "g" * 21,  # longer than the schema's maxLength
    ],
)
def test_invalid_filter_values_are_400(world, query):
    assert_error(world["client"].get(query), status=400, code="invalid")


@pytest.mark.parametrize("value, found", [("true", 0), ("False", 1), ("", 1)])
def test_the_yes_no_filter_takes_true_false_or_nothing(world, value, found):
    response = world["client"].get(f"/api/v1/people/?is_deceased={value}")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == found


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "x" * 5000,
        "%FF%FE",
        base64.b64encode(b"p=x").decode(),
        base64.b64encode(b"o=1&p=1.5").decode(),
        base64.b64encode(b"r=x&p=1").decode(),
        base64.b64encode(b"o=-1&p=1").decode(),
        base64.b64encode("p=\u00e9".encode()).decode(),
    ],
    ids=[
        "not base64",
        "oversized",
        "not ascii",
        "non-numeric position",
        "fractional position",
        "bad reverse flag",
        "negative offset",
        "non-ascii position",
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/engagements/", "/api/v1/productions/"])
def test_an_invalid_cursor_is_404(world, url, cursor):
    response = world["client"].get(f"{url}?cursor={cursor}")
    assert_error(response, status=404, code="not_found")


@pytest.mark.parametrize("url", ["/api/v1/engagements/", "/api/v1/productions/"])
def test_a_well_formed_cursor_past_every_id_is_an_empty_page(world, url):
    # "r=1&p=<a 30-digit id>": decodes fine, points beyond any row the database can hold.
    cursor = base64.b64encode(b"p=" + b"9" * 30).decode()
    response = world["client"].get(f"{url}?cursor={cursor}")
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_a_made_up_cursor_is_404(world):
    response = world["client"].get("/api/v1/engagements/?cursor=not-a-cursor")
    body = assert_error(response, status=404, code="not_found")
    assert "cursor" in body["message"].lower()


@pytest.mark.parametrize("page_size", ["-1", "0", "abc", HUGE])
def test_odd_page_sizes_do_not_break_lists(world, page_size):
    response = world["client"].get(f"/api/v1/engagements/?page_size={page_size}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


# --- the registry is unchanged by a whole barrage ----------------------------------------------


def test_a_barrage_of_bad_requests_changes_nothing(world):
    client = world["client"]
    before = snapshot()
    for overrides in PRODUCTION_CREATE_CASES.values():
        client.post("/api/v1/productions/", production_body(**overrides), format="json")
    for make in ENGAGEMENT_CASES.values():
        client.post("/api/v1/engagements/", engagement_body(world, **make(world)), format="json")
    for overrides in PERSON_CASES.values():
        client.post("/api/v1/people/", person_body(**overrides), format="json")
    assert snapshot() == before


# --- what the schema promises about ids and text filters (found by `make fuzz`) ---------------


def _arabic_indic(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def test_an_id_in_another_scripts_digits_is_404_not_the_row(world):
    pk = world["production"].pk
    assert world["client"].get(f"/api/v1/productions/{pk}/").status_code == 200
    response = world["client"].get(f"/api/v1/productions/{_arabic_indic(pk)}/")
    assert_error(response, status=404, code="not_found")


def test_a_transaction_id_in_another_scripts_digits_is_404(world):
    uuid_text = "00000000-0000-4000-8000-000000000001"
    response = world["client"].get(
        f"/api/v1/ledger/transactions/{_arabic_indic(0)}{uuid_text[1:]}/"
    )
    assert_error(response, status=404, code="not_found")


def test_the_schema_gives_ids_their_digits_and_text_filters_their_length(world):
    schema = world["client"].get("/api/schema/?format=json").json()
    people = schema["paths"]["/api/v1/people/{id}/"]["get"]["parameters"]
    (path_id,) = [p for p in people if p["in"] == "path"]
    assert path_id["schema"]["pattern"] == "^[0-9]+$"
    listing = schema["paths"]["/api/v1/people/"]["get"]["parameters"]
    (guild_filter,) = [p for p in listing if p["name"] == "guild"]
    assert guild_filter["schema"]["maxLength"] == 20
    response = world["client"].get("/api/v1/people/?guild=" + "g" * 20)
    assert response.status_code == 200, response.content
