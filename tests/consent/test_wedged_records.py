"""Records that must never be wedged for good: a consent event dated years ahead (or before the
signature) is refused, a revocation is always recordable while the consent still covers
something, an AI use recorded by mistake can be voided (and then counts nowhere), and a replica
use without days is refused when recorded instead of failing in a later run."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from compensation import runs
from compensation import selectors as compensation_selectors
from compensation.admin import HoldResolutionForm
from compensation.models import CompensationLine
from compensation.services import hold_resolve
from consent.models import AiUse, AiUseVoid, ConsentEvent
from consent.services import ai_use_record, ai_use_void, consent_revoke
from core.errors import Conflict, DomainError
from ledger.access import Scope
from reports import compliance, dashboard, label
from tests.consent.helpers import counts
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    grant_consent,
    guild_staff,
    studio_staff,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

SIGNED = datetime(2025, 6, 1, 12, tzinfo=UTC)
FAR = "2999-01-01T00:00:00Z"
VERY_FAR = "9999-12-31T00:00:00Z"
# Far ahead, yet a year every instant field takes: only the event window refuses it.
AHEAD = "2100-01-01T00:00:00Z"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def world():
    meridian = StudioFactory(name="Meridian", slug="meridian")
    northgate = StudioFactory(name="Northgate", slug="northgate")
    light = ProductionFactory(studio=meridian, title="The Long Light")
    ann = EngagementFactory(
        production=light, person=PersonFactory(legal_name="Ann Example", registered_by=meridian)
    )
    maya = studio_staff(meridian, "maya")
    nora = studio_staff(northgate, "nora")
    sally = guild_staff("sag-aftra", "sally")
    api = APIClient()
    api.force_authenticate(maya)
    return {
        "meridian": meridian,
        "light": light,
        "ann": ann,
        "maya": maya,
        "nora": nora,
        "sally": sally,
        "api": api,
        "consent": grant_consent(ann),
    }


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def admin_as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def event(world, action, at, reason="Performer wrote to the studio", consent=None):
    consent = consent or world["consent"]
    body = {"reason": reason} if at is None else {"reason": reason, "at": at}
    return world["api"].post(f"/api/v1/consents/{consent.pk}/{action}/", body, format="json")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def status_of(world, consent=None) -> str:
    consent = consent or world["consent"]
    return world["api"].get(f"/api/v1/consents/{consent.pk}/").json()["status"]


# --- consent events: a sane window -----------------------------------------------------------


@pytest.mark.parametrize("at", [FAR, VERY_FAR, AHEAD, "tomorrow"])
@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_an_event_dated_far_ahead_is_refused_and_writes_nothing(world, action, at):
    if at == "tomorrow":
        at = iso(timezone.now() + timedelta(days=1))
    before = counts()
    response = event(world, action, at)
    body = assert_error(response, 400)
    assert set(body["fields"]) == {"at"}
    if at not in (FAR, VERY_FAR):  # those two are refused as years out of range already
        assert body["code"] == "event_in_future"
    assert counts() == before
    # The consent stays revocable now.
    assert event(world, "revoke", None).status_code == 200
    assert status_of(world) == "revoked"


def test_a_resumption_dated_far_ahead_is_refused(world):
    assert event(world, "suspend", None).status_code == 200
    before = counts()
    for at in (VERY_FAR, AHEAD):
        body = assert_error(event(world, "resume", at), 400)
        assert set(body["fields"]) == {"at"}
    assert body["code"] == "event_in_future"
    assert counts() == before
    # Later events are still recordable: resumed now, then revoked.
    assert event(world, "resume", None).status_code == 200
    assert event(world, "revoke", None).status_code == 200


def test_an_event_within_the_clock_tolerance_is_accepted(world, settings):
    settings.CLOCK_SKEW_TOLERANCE = timedelta(minutes=5)
    response = event(world, "suspend", iso(timezone.now() + timedelta(minutes=2)))
    assert response.status_code == 200, response.content
    response = event(world, "resume", iso(timezone.now() + timedelta(minutes=10)))
    assert_error(response, 400, "event_in_future")


@pytest.mark.parametrize("action", ["revoke", "suspend", "resume"])
def test_an_event_before_the_signature_is_refused(world, action):
    before = counts()
    body = assert_error(event(world, action, iso(SIGNED - timedelta(seconds=1))), 400)
    assert body["code"] == "event_before_signature" and set(body["fields"]) == {"at"}
    assert counts() == before


def test_a_suspended_consent_can_be_revoked(world):
    assert event(world, "suspend", iso(timezone.now() - timedelta(hours=2))).status_code == 200
    assert status_of(world) == "suspended"
    response = event(world, "revoke", None)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    assert [e["kind"] for e in response.json()["events"]] == ["suspended", "revoked"]


def test_a_revocation_may_be_dated_before_later_events(world):
    """A letter of withdrawal recorded late: the revocation takes effect from its own date even
    though a suspension and resumption were recorded after it."""
    now = timezone.now()
    assert event(world, "suspend", iso(now - timedelta(days=3))).status_code == 200
    assert event(world, "resume", iso(now - timedelta(days=1))).status_code == 200
    response = event(world, "revoke", iso(now - timedelta(days=5)))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    # And then final: no event after it.
    assert_error(event(world, "suspend", None), 409, "consent_revoked")


def legacy_event(consent, kind, at: datetime):
    """An event recorded before event dates were bounded (written as the service once did)."""
    return ConsentEvent.objects.create(
        consent=consent,
        kind=kind,
        effective_at=at,
        reason="Dated far ahead by mistake",
        actor=UserFactory(username="legacy"),
    )


@pytest.mark.parametrize("kind", ["revoked", "suspended", "resumed"])
def test_an_event_already_dated_far_ahead_does_not_block_a_revocation_now(world, kind):
    consent = world["consent"]
    if kind == "resumed":
        legacy_event(consent, "suspended", timezone.now() - timedelta(days=1))
    legacy_event(consent, kind, datetime(2999, 1, 1, tzinfo=UTC))
    response = event(world, "revoke", None)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"


def test_an_event_already_dated_far_ahead_does_not_block_suspension_and_resumption(world):
    consent = world["consent"]
    legacy_event(consent, "suspended", datetime(2999, 1, 1, tzinfo=UTC))
    response = event(world, "suspend", None)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "suspended"
    assert event(world, "resume", None).json()["status"] == "granted"


def test_the_admin_actions_refuse_an_event_far_ahead(world):
    client = admin_as(world["maya"])
    url = reverse("admin:consent_consent_changelist")
    for action in ("revoke_selected", "suspend_selected"):
        before = counts()
        response = client.post(
            url,
            {
                "action": action,
                "_selected_action": [world["consent"].pk],
                "apply": "1",
                "reason": "Far ahead",
                "at": "2100-01-01 00:00",
            },
            follow=True,
        )
        assert "in the future" in response.content.decode()
        assert counts() == before


def test_the_admin_revoke_form_refuses_an_instant_far_ahead_and_revokes_a_suspended_consent(
    world,
):
    consent = world["consent"]
    client = admin_as(world["maya"])
    url = reverse("admin:consent_consent_revoke", args=[consent.pk])
    before = counts()
    response = client.post(url, {"reason": "Withdrawn", "at": "2100-01-01 00:00", "_revoke": "1"})
    assert response.status_code == 200
    assert "at" in response.context["form"].errors
    assert counts() == before
    assert event(world, "suspend", None).status_code == 200
    response = client.post(url, {"reason": "Withdrawn", "at": "", "_revoke": "1"})
    assert response.status_code == 302
    assert ConsentEvent.objects.filter(consent=consent, kind="revoked").count() == 1


def test_the_admin_revoke_form_stays_open_while_a_revocation_lies_far_ahead(world):
    consent = world["consent"]
    legacy_event(consent, "revoked", datetime(2999, 1, 1, tzinfo=UTC))
    client = admin_as(world["maya"])
    url = reverse("admin:consent_consent_revoke", args=[consent.pk])
    response = client.post(url, {"reason": "Withdrawn", "at": "", "_revoke": "1"})
    assert response.status_code == 302
    assert status_of(world) == "revoked"


# --- voiding an AI use ------------------------------------------------------------------------

USE_AT = datetime(2025, 8, 6, 9, tzinfo=UTC)


def record(world, *, on=USE_AT, kind="replica_use", days="2", **fields):
    return ai_use_record(
        actor=world["maya"],
        scope=Scope(superuser=True),
        production=world["light"],
        person=world["ann"].person,
        kind=kind,
        starts_at=on,
        days=Decimal(days) if days is not None else None,
        description="Digital replica in the harbour scene",
        **fields,
    )


def void_url(use) -> str:
    return f"/api/v1/ai-uses/{use.pk}/void/"


def test_a_void_records_who_when_and_why_and_keeps_the_use(world):
    use = record(world)
    assert use.status == "violation"
    response = world["api"].post(void_url(use), {"reason": "Wrong consent"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == use.pk and body["status"] == "violation"
    assert body["void"]["reason"] == "Wrong consent" and body["void"]["actor"] == "maya"
    void = AiUseVoid.objects.get()
    assert (void.use, void.actor, void.reason) == (use, world["maya"], "Wrong consent")
    assert void.history.get().history_user == world["maya"]
    assert AiUse.objects.filter(pk=use.pk).exists() and use.history.count() == 1
    listed = world["api"].get("/api/v1/ai-uses/", {"voided": "true"}).json()["results"]
    assert [row["id"] for row in listed] == [use.pk]
    assert world["api"].get("/api/v1/ai-uses/", {"voided": "false"}).json()["results"] == []


def test_voiding_twice_or_without_a_reason_is_refused_and_writes_nothing(world):
    use = record(world)
    before = AiUseVoid.objects.count(), AiUseVoid.history.count()
    assert_error(world["api"].post(void_url(use), {"reason": ""}, format="json"), 400)
    assert_error(world["api"].post(void_url(use), {}, format="json"), 400)
    with pytest.raises(DomainError):
        ai_use_void(actor=world["maya"], use=use, reason="   ")
    assert (AiUseVoid.objects.count(), AiUseVoid.history.count()) == before
    assert world["api"].post(void_url(use), {"reason": "Wrong"}, format="json").status_code == 200
    again = world["api"].post(void_url(use), {"reason": "Again"}, format="json")
    assert_error(again, 409, "ai_use_voided")
    assert AiUseVoid.objects.count() == 1


def test_a_void_is_scoped_like_recording(world):
    use = record(world)
    assert_error(api_as(world["nora"]).post(void_url(use), {"reason": "x"}, format="json"), 404)
    sally = api_as(world["sally"])
    assert sally.get(f"/api/v1/ai-uses/{use.pk}/").status_code == 200  # guild staff read it
    assert_error(sally.post(void_url(use), {"reason": "x"}, format="json"), 403)
    missing = AiUse(pk=987654321)
    assert_error(world["api"].post(void_url(missing), {"reason": "x"}, format="json"), 404)
    assert AiUseVoid.objects.count() == 0


def test_a_void_is_append_only_in_the_database(world):
    use = record(world)
    void = ai_use_void(actor=world["maya"], use=use, reason="Wrong consent")
    for sql in (
        "UPDATE consent_aiusevoid SET reason = 'changed' WHERE id = %s",
        "DELETE FROM consent_aiusevoid WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [void.pk])
    void.refresh_from_db()
    assert void.reason == "Wrong consent"


def test_the_admin_voids_a_use_from_its_page(world):
    use = record(world)
    client = admin_as(world["maya"])
    page = client.get(reverse("admin:consent_aiuse_change", args=[use.pk])).content.decode()
    url = reverse("admin:consent_aiuse_void", args=[use.pk])
    assert f'href="{url}" id="void-link"' in page
    refused = client.post(url, {"reason": ""})
    assert (
        refused.status_code == 200 and "Give the reason for the void." in refused.content.decode()
    )
    assert AiUseVoid.objects.count() == 0
    done = client.post(url, {"reason": "Recorded against the wrong consent"}, follow=True)
    assert done.redirect_chain == [(reverse("admin:consent_aiuse_change", args=[use.pk]), 302)]
    assert "Recorded against the wrong consent" in done.content.decode()
    assert AiUseVoid.objects.get().actor == world["maya"]
    # Other studios do not see it; guild staff may not void it.
    assert admin_as(world["nora"]).get(url).status_code == 404
    assert admin_as(world["sally"]).post(url, {"reason": "x"}).status_code == 403
    # The register's violations filter counts it no more.
    listing = client.get(reverse("admin:consent_aiuse_changelist"), {"status": "violation"})
    assert f"/admin/consent/aiuse/{use.pk}/change/" not in listing.content.decode()


def period_report(world, as_of=None):
    return compliance.build(
        compliance.Target.of(world["light"]),
        date(2025, 8, 1),
        date(2025, 8, 31),
        as_of or timezone.now(),
    )


def section(content, key) -> list[int]:
    found = next(s for s in content["sections"] if s["key"] == key)
    return [row["id"] for row in found["rows"]]


def test_a_voided_use_leaves_every_report_section_and_is_listed_apart(world):
    kept, mistaken = record(world), record(world, on=USE_AT + timedelta(days=1))
    planned = record(world, on=timezone.now() + timedelta(days=30))
    counted = record(world, on=USE_AT + timedelta(days=2), counted_toward_headcount=True)
    before = period_report(world)
    assert set(section(before, "violations")) == {kept.pk, mistaken.pk, counted.pk}
    assert section(before, "background_headcount") == [counted.pk]
    for use in (mistaken, planned, counted):
        ai_use_void(actor=world["maya"], use=use, reason="Recorded against the wrong person")
    after = period_report(world)
    voided = {mistaken.pk, counted.pk}
    for found in after["sections"]:
        if found["key"] != "voided_uses":
            assert not {row["id"] for row in found["rows"] if row["object"] == "ai_use"} & (
                voided | {planned.pk}
            ), found["key"]
    assert section(after, "violations") == [kept.pk]
    rows = next(s for s in after["sections"] if s["key"] == "voided_uses")["rows"]
    assert [row["id"] for row in rows] == [mistaken.pk, counted.pk]
    assert "by maya: Recorded against the wrong person" in rows[0]["detail"]
    # Reports made before the void still count it (a report is as of its moment).
    earlier = period_report(
        world, as_of=AiUseVoid.objects.get(use=mistaken).voided_at - timedelta(1)
    )
    assert mistaken.pk in section(earlier, "violations")


def test_a_voided_use_leaves_the_dashboard_and_the_label(world):
    planned = record(world, on=timezone.now() + timedelta(days=30))
    record(world)
    scope = Scope(studio_ids=frozenset({world["meridian"].pk}))
    ids = [world["light"].pk]
    assert dashboard._violations(scope, ids) == {world["light"].pk: 2}
    assert dashboard._pending_consents(scope, ids, timezone.now()) == {world["light"].pk: 1}
    ai_use_void(actor=world["maya"], use=planned, reason="Wrong consent")
    assert dashboard._violations(scope, ids) == {world["light"].pk: 1}
    assert dashboard._pending_consents(scope, ids, timezone.now()) == {}
    uses = label.content(world["light"])["uses"]
    assert uses["replica_use"]["recorded"] == 1 and uses["replica_use"]["violations"] == 1


def test_a_voided_use_produces_no_line_in_a_run_and_cannot_be_held(world):
    kept, mistaken = record(world), record(world, on=USE_AT + timedelta(days=1))
    ai_use_void(actor=world["maya"], use=mistaken, reason="Wrong consent")
    run = runs.run_start(
        actor=world["maya"],
        production=world["light"],
        period_from=date(2025, 8, 1),
        period_to=date(2025, 8, 31),
        due_date=date(2025, 9, 15),
    )
    inputs, unmatched = compensation_selectors.run_inputs(run)
    assert [u.pk for i in inputs for u in i.uses] + [u.pk for u in unmatched] == [kept.pk]
    runs.run_compute(run.pk)
    held = set(CompensationLine.objects.filter(run=run).values_list("ai_use_id", flat=True))
    assert held == {kept.pk}  # the kept violation's held line; nothing of the voided one
    with pytest.raises(Conflict) as refused:
        hold_resolve(actor=world["maya"], ai_use=mistaken, decision="release", reason="x")
    assert refused.value.code == "ai_use_voided"


def test_the_hold_resolution_list_tells_uses_apart_and_leaves_out_voided_ones(world, rf):
    first, second = record(world), record(world, on=USE_AT + timedelta(days=1))
    mistaken = record(world, on=USE_AT + timedelta(days=2))
    ai_use_void(actor=world["maya"], use=mistaken, reason="Wrong consent")
    request = rf.get("/")
    request.user = world["maya"]
    HoldResolutionForm.request = request
    try:
        form = HoldResolutionForm()
    finally:
        HoldResolutionForm.request = None
    labels = {pk: text for pk, text in form.fields["ai_use"].choices if pk}
    assert {int(str(pk)) for pk in labels} == {first.pk, second.pk}
    assert len(set(labels.values())) == 2
    assert all(re.search(r"#\d+", text) and "2025-08-0" in text for text in labels.values())


# --- a replica use needs its days -------------------------------------------------------------


@pytest.mark.parametrize("days", [None, "0", "0.00"])
def test_a_replica_use_without_days_is_refused_through_the_api(world, days):
    body = {
        "production": world["light"].pk,
        "person": world["ann"].person_id,
        "kind": "replica_use",
        "starts_at": "2025-08-06T09:00:00Z",
        "description": "Digital replica in the harbour scene",
    }
    if days is not None:
        body["days"] = days
    before = counts()
    response = world["api"].post("/api/v1/ai-uses/", body, format="json")
    refused = assert_error(response, 400, "replica_days_required")
    assert set(refused["fields"]) == {"days"}
    assert "[" not in refused["message"] and "replica_uses" not in refused["message"]
    assert counts() == before
    body["days"] = "1.5"
    assert world["api"].post("/api/v1/ai-uses/", body, format="json").status_code == 201


def test_a_replica_use_without_days_is_a_field_error_in_the_admin(world):
    client = admin_as(world["maya"])
    body = {
        "production": world["light"].pk,
        "person": world["ann"].person_id,
        "kind": "replica_use",
        "starts_at_0": "2025-08-06",
        "starts_at_1": "09:00:00",
        "description": "Digital replica in the harbour scene",
    }
    before = counts()
    response = client.post(reverse("admin:consent_aiuse_add"), body)
    assert response.status_code == 200
    assert "days" in response.context["adminform"].form.errors
    assert counts() == before
    response = client.post(reverse("admin:consent_aiuse_add"), {**body, "days": "1"})
    assert response.status_code == 302
    assert AiUse.objects.get().days == Decimal("1")


def test_consent_revoke_service_refuses_far_ahead_for_every_caller(world):
    with pytest.raises(DomainError) as refused:
        consent_revoke(
            actor=world["maya"],
            consent=world["consent"],
            reason="x",
            at=datetime(2999, 1, 1, tzinfo=UTC),
        )
    assert refused.value.code == "event_in_future" and set(refused.value.fields) == {"at"}
