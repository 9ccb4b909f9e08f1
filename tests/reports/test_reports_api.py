"""Reports over REST and in the admin, as their users reach them: who sees which report, running
one now, its PDF and CSV, subscriptions, the receipts and the label's publication; bad input is a
JSON error that writes nothing."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from reports.models import DisclosureLabel, Report, Subscription
from tests.factories import (
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    grant_consent,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import csv_text
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

PERIOD = {"period_from": "2026-08-01", "period_to": "2026-08-31"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world():
    meridian = StudioFactory(name="Meridian", slug="meridian")
    northgate = StudioFactory(name="Northgate", slug="northgate")
    light = ProductionFactory(studio=meridian, title="The Long Light")
    ember = ProductionFactory(studio=northgate, title="Ember")
    ann = EngagementFactory(production=light, person__legal_name="Ann Actor")
    writer = EngagementFactory(
        production=light,
        person__legal_name="Abe Writer",
        agreement=agreement("wga-mba-2023"),
        classification="writer",
        rate_unit="flat",
    )
    nell = EngagementFactory(production=ember, person__legal_name="Nell North")
    maya = studio_staff(meridian, "maya")
    maya.email = "maya@meridian.test"
    maya.save()
    return {
        "meridian": meridian,
        "northgate": northgate,
        "light": light,
        "ember": ember,
        "ann": ann,
        "writer": writer,
        "nell": nell,
        "maya": maya,
        "nora": studio_staff(northgate, "nora"),
        "sam": guild_staff("sag-aftra", "sam"),
        "wendy": guild_staff("wga", "wendy"),
    }


def _as(api, user):
    api.force_authenticate(user)
    return api


def _run(api, user, **body):
    return _as(api, user).post("/api/v1/reports/", {**PERIOD, **body}, format="json")


def test_studio_staff_run_a_production_report_and_read_it_in_every_format(api, world):
    response = _run(api, world["maya"], production=world["light"].pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["scope_kind"] == "production"
    assert body["origin"] == "on_demand"
    assert [s["key"] for s in body["content"]["sections"]][:2] == [
        "violations",
        "planned_uses_not_covered",
    ]
    assert body["content"]["period"] == {"from": "2026-08-01", "to": "2026-08-31"}

    pdf = api.get(body["links"]["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Compliance report" in text and "The Long Light" in text

    csv = api.get(body["links"]["csv"])
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv_text(csv).splitlines()[0].startswith("section,rule,object,id")

    listed = api.get("/api/v1/reports/").json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert "content" not in listed[0]


def test_a_production_report_matches_the_schema_with_no_guild(api, world):
    """Regression (found by `make fuzz`): a production's or a studio's report has `guild: null`,
    which the schema did not allow."""
    created = _run(api, world["maya"], production=world["light"].pk)
    assert created.status_code == 201, created.json()
    for path, url in [
        ("/api/v1/reports/", "/api/v1/reports/"),
        ("/api/v1/reports/{id}/", f"/api/v1/reports/{created.json()['id']}/"),
    ]:
        response = api.get(url)
        assert response.status_code == 200
        assert_matches_schema(response, "GET", path)
    assert response.json()["guild"] is None


def test_reports_are_scoped_guild_staff_see_their_guilds_reports_only(api, world):
    light = _run(api, world["maya"], production=world["light"].pk).json()
    sag = _run(api, world["sam"], guild="sag-aftra").json()
    ember = _run(api, world["nora"], production=world["ember"].pk).json()

    def visible(user):
        return {r["id"] for r in _as(api, user).get("/api/v1/reports/").json()["results"]}

    assert visible(world["maya"]) == {light["id"]}
    assert visible(world["nora"]) == {ember["id"]}
    assert visible(world["sam"]) == {sag["id"]}
    assert visible(world["wendy"]) == set()
    assert _as(api, world["wendy"]).get(f"/api/v1/reports/{sag['id']}/").status_code == 404
    assert _as(api, world["nora"]).get(f"/api/v1/reports/{light['id']}/pdf/").status_code == 404


@pytest.mark.parametrize(
    "who, body",
    [
        ("nora", {"production": "light"}),  # another studio's production
        ("sam", {"production": "light"}),  # guild staff run guild reports
        ("sam", {"guild": "wga"}),  # not their guild
        ("maya", {"guild": "sag-aftra"}),
        ("maya", {"studio": "northgate"}),
        ("maya", {"production": 2**62}),
    ],
)
def test_a_report_outside_the_callers_reach_is_not_found_and_nothing_is_stored(
    api, world, who, body
):
    body = {k: world[v].pk if isinstance(v, str) and v in world else v for k, v in body.items()}
    response = _run(api, world[who], **body)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "production"),
        ({"production": "light", "studio": "meridian"}, "production"),
        ({"production": "light", "period_from": "2026-09-01"}, "period_to"),
        ({"production": "light", "period_to": "31/08/2026"}, "period_to"),
        ({"production": "light", "period_from": None}, "period_from"),
        ({"production": "x"}, "production"),
    ],
)
def test_bad_input_is_a_json_error_naming_the_field_and_writes_nothing(api, world, body, field):
    body = {k: world[v].pk if isinstance(v, str) and v in world else v for k, v in body.items()}
    response = _run(api, world["maya"], **body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] and error["message"]
    assert field in error["fields"]
    assert Report.objects.count() == 0


def test_payroll_keys_see_no_reports(api, world):
    _run(api, world["maya"], production=world["light"].pk)
    _, raw = payroll_key(world["meridian"])
    api.force_authenticate(None)
    response = api.get("/api/v1/reports/", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_run_now_with_send_emails_the_subscribers_once(api, world, mailoutbox):
    _as(api, world["maya"]).post(
        "/api/v1/report-subscriptions/", {"studio": world["meridian"].pk}, format="json"
    )
    assert Subscription.objects.filter(user=world["maya"], active=True).count() == 1
    body = _run(api, world["maya"], production=world["light"].pk, send=True).json()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["maya@meridian.test"]
    ((name, content, mimetype),) = message.attachments
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert body["sha256"] in message.body
    # Asking to send the same stored report again sends nothing twice.
    from reports.services import report_deliver

    assert report_deliver(report=Report.objects.get(pk=body["id"])) == []
    assert len(mailoutbox) == 1


def test_only_the_studios_or_guilds_staff_may_subscribe(api, world):
    response = _as(api, world["maya"]).post(
        "/api/v1/report-subscriptions/", {"studio": world["northgate"].pk}, format="json"
    )
    # Another studio is answered as a studio that does not exist (its name is not told).
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "Northgate" not in response.content.decode()
    response = _as(api, world["sam"]).post(
        "/api/v1/report-subscriptions/", {"guild": "sag-aftra"}, format="json"
    )
    assert response.status_code == 201
    assert (
        _as(api, world["sam"]).get("/api/v1/report-subscriptions/").json()["results"][0]["guild"]
        == "sag-aftra"
    )
    assert not Subscription.objects.filter(user=world["maya"]).exists()


def test_the_label_is_published_by_the_studio_and_then_public(api, world, client):
    url = f"/api/v1/disclosure-labels/{world['light'].pk}/"
    draft = _as(api, world["maya"]).get(url).json()
    assert draft["published"] is False and draft["public_url"] is None
    assert _as(api, world["sam"]).patch(url, {"published": True}, format="json").status_code in (
        403,
        404,
    )
    assert not DisclosureLabel.objects.filter(published=True).exists()
    assert _as(api, world["nora"]).get(url).status_code == 404

    published = _as(api, world["maya"]).patch(url, {"published": True}, format="json").json()
    assert published["published"] is True
    public = client.get(published["public_url"].split("testserver", 1)[-1])
    assert public.status_code == 200
    label = DisclosureLabel.objects.get(production=world["light"])
    assert label.history.first().history_user == world["maya"]


def test_receipts_are_read_by_staff_in_scope_and_sent_by_the_studio(api, world, mailoutbox):
    consent = grant_consent(world["ann"], actor=world["maya"])
    world["ann"].person.email = "ann@example.test"
    world["ann"].person.save()
    url = f"/api/v1/receipts/{consent.pk}/"
    body = _as(api, world["sam"]).get(url).json()
    assert body["consent"] == consent.pk and len(body["receipts"]) == 1
    assert _as(api, world["nora"]).get(url).status_code == 404
    assert _as(api, world["sam"]).post(f"{url}send/", {}, format="json").status_code == 403
    assert _as(api, world["maya"]).get(f"{url}pdf/").content.startswith(b"%PDF")
    assert _as(api, world["maya"]).get(f"{url}pdf/?event=999999").status_code == 404
    sent = _as(api, world["maya"]).post(f"{url}send/", {}, format="json")
    assert sent.status_code == 201, sent.json()
    assert sent.json()["email"] == "ann@example.test"
    assert mailoutbox[0].to == ["ann@example.test"]


def test_the_admin_shows_a_report_and_runs_one_now(world, client):
    client.force_login(world["maya"])
    response = client.post(
        "/admin/reports/report/run/",
        {"production": world["light"].pk, **PERIOD},
    )
    assert response.status_code == 302, response.content
    report = Report.objects.get()
    page = client.get(f"/admin/reports/report/{report.pk}/change/")
    assert page.status_code == 200
    assert b"Consents expiring within 30 days" in page.content
    assert report.sha256.encode() in page.content
    for kind in ("pdf", "csv", "json"):
        assert client.get(f"/admin/reports/report/{report.pk}/{kind}/").status_code == 200
    client.force_login(world["nora"])
    assert client.get(f"/admin/reports/report/{report.pk}/change/").status_code == 404
    assert client.get(f"/admin/reports/report/{report.pk}/pdf/").status_code == 404
    assert Report.objects.filter(period_to=date(2026, 8, 31)).count() == 1
