"""The staff admin does not bypass what the API enforces: it writes through the same services,
with the same rules, and what the API treats as fixed is read-only in the admin."""

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.test import Client, RequestFactory
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from compensation.models import EngagementTerms
from consent import services as consent_services
from consent.models import StrikePeriod, UnionNotice, WgaDisclosure
from core.errors import DomainError
from ledger.access import SYSTEM_SCOPE
from ledger.models import Engagement, GuildStaff, Production
from ledger.registry import api as ledger_api
from ledger.registry import services as ledger_services
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    guild,
    guild_staff,
    studio_staff,
)

pytestmark = pytest.mark.django_db

GIVEN = datetime(2025, 6, 10, 9, tzinfo=UTC)


@pytest.fixture
def world():
    meridian = StudioFactory(name="Meridian", slug="meridian")
    light = ProductionFactory(studio=meridian, title="The Long Light")
    ann = EngagementFactory(production=light, person__legal_name="Ann Actor")
    writer = EngagementFactory(
        production=light,
        person__legal_name="Wes Writer",
        agreement=agreement("wga-mba-2023"),
        classification="writer",
        rate_unit="flat",
    )
    return {
        "meridian": meridian,
        "light": light,
        "ann": ann,
        "writer": writer,
        "maya": studio_staff(meridian, "maya"),
        "recorder": UserFactory(username="recorder"),
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change_data(user, model, obj, **changes) -> dict:
    """The admin change form's own values for `obj` (as a browser would post them back)."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    form = model_admin.get_form(request, obj, change=True)(instance=obj)
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else str(value)
    data.update({k: str(v) for k, v in changes.items()})
    return data


def _notice(world, **fields):
    return consent_services.union_notice_record(
        actor=world["recorder"],
        scope=SYSTEM_SCOPE,
        **{
            "production": world["light"],
            "guild": guild("sag-aftra"),
            "kind": "synthetic_performer",
            "given_at": GIVEN,
            "description": "Synthetic performer in scene 4",
            **fields,
        },
    )


def _disclosure(world):
    return consent_services.wga_disclosure_record(
        actor=world["recorder"],
        scope=SYSTEM_SCOPE,
        production=world["light"],
        writer=world["writer"].person,
        material="AI-generated outline",
        handed_over_on=date(2025, 6, 10),
        disclosed_at=GIVEN,
    )


# --- union notices and WGA disclosures --------------------------------------------------------


def test_the_admin_refuses_a_notice_to_the_wrong_guild_as_the_api_does(world, api):
    body = {
        "production": world["light"].pk,
        "guild": "iatse",
        "kind": "synthetic_performer",
        "given_at": "2025-06-10T09:00:00Z",
        "description": "Synthetic performer",
    }
    api.force_authenticate(world["maya"])
    refused = api.post("/api/v1/union-notices/", body, format="json")
    assert refused.status_code == 400 and "guild" in refused.json()["fields"]

    response = _client(world["maya"]).post(
        reverse("admin:consent_unionnotice_add"),
        {
            "production": world["light"].pk,
            "guild": guild("iatse").pk,
            "kind": "synthetic_performer",
            "given_at_0": "2025-06-10",
            "given_at_1": "09:00:00",
            "description": "Synthetic performer",
            "recipient": "",
        },
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert "goes to sag-aftra" in response.content.decode()
    assert not UnionNotice.objects.exists()


@pytest.mark.parametrize(
    ("model", "service"),
    [(UnionNotice, "union_notice_record"), (WgaDisclosure, "wga_disclosure_record")],
)
def test_notices_and_disclosures_are_recorded_in_the_admin_through_their_service(
    world, model, service
):
    data = {
        UnionNotice: {
            "production": world["light"].pk,
            "guild": guild("sag-aftra").pk,
            "kind": "synthetic_performer",
            "given_at_0": "2025-06-10",
            "given_at_1": "09:00:00",
            "description": "Synthetic performer",
            "recipient": "",
        },
        WgaDisclosure: {
            "production": world["light"].pk,
            "writer": world["writer"].person_id,
            "material": "AI-generated outline",
            "handed_over_on": "2025-06-10",
            "disclosed_at_0": "2025-06-10",
            "disclosed_at_1": "09:00:00",
        },
    }[model]
    real = getattr(consent_services, service)
    with mock.patch.object(consent_services, service, side_effect=real) as called:
        response = _client(world["maya"]).post(
            reverse(f"admin:consent_{model._meta.model_name}_add"), data
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert called.call_count == 1
    assert called.call_args.kwargs["actor"] == world["maya"]
    row = model.objects.get()
    assert row.recorded_by == world["maya"]
    assert row.history.get().history_user == world["maya"]


def test_a_notice_and_a_disclosure_are_read_only_in_the_admin_once_recorded(world):
    notice, disclosure = _notice(world), _disclosure(world)
    client = _client(world["maya"])

    page = client.get(reverse("admin:consent_wgadisclosure_change", args=[disclosure.pk]))
    assert page.status_code == 200
    assert 'name="disclosed_at_0"' not in page.content.decode()  # shown, not editable
    backdated = client.post(
        reverse("admin:consent_wgadisclosure_change", args=[disclosure.pk]),
        {
            "production": world["light"].pk,
            "writer": world["writer"].person_id,
            "material": "AI-generated outline",
            "handed_over_on": "2025-06-10",
            "disclosed_at_0": "2025-01-01",
            "disclosed_at_1": "09:00:00",
        },
    )
    assert backdated.status_code == 403
    disclosure.refresh_from_db()
    assert disclosure.disclosed_at == GIVEN

    moved = client.post(
        reverse("admin:consent_unionnotice_change", args=[notice.pk]),
        {
            "production": world["light"].pk,
            "guild": guild("iatse").pk,
            "kind": "synthetic_performer",
            "given_at_0": "2025-06-10",
            "given_at_1": "09:00:00",
            "description": "Synthetic performer in scene 4",
            "recipient": "",
        },
    )
    assert moved.status_code == 403
    notice.refresh_from_db()
    assert notice.guild.code == "sag-aftra"
    assert notice.history.count() == 1


def test_the_notice_service_holds_the_guild_rule_for_every_caller(world):
    with pytest.raises(DomainError) as refused:
        _notice(world, guild=guild("iatse"))
    assert "guild" in refused.value.fields
    assert not UnionNotice.objects.exists()


# --- strike periods ---------------------------------------------------------------------------


def test_a_strike_keeps_its_guild_in_the_admin_as_in_the_api(world, api):
    sam = guild_staff("sag-aftra", "sam")
    GuildStaff.objects.create(user=sam, guild=guild("wga"))
    strike = consent_services.strike_period_record(
        actor=sam,
        scope=SYSTEM_SCOPE,
        guild=guild("sag-aftra"),
        starts_on=date(2026, 8, 1),
        description="Strike",
    )
    api.force_authenticate(sam)
    refused = api.patch(f"/api/v1/strike-periods/{strike.pk}/", {"guild": "wga"}, format="json")
    assert refused.status_code == 400 and "guild" in refused.json()["fields"]

    client = _client(sam)
    page = client.get(reverse("admin:consent_strikeperiod_change", args=[strike.pk]))
    assert 'name="guild"' not in page.content.decode()
    response = client.post(
        reverse("admin:consent_strikeperiod_change", args=[strike.pk]),
        {
            "guild": guild("wga").pk,
            "starts_on": "2026-08-01",
            "ends_on": "2026-08-20",
            "description": "Strike",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    strike.refresh_from_db()
    assert strike.guild.code == "sag-aftra"
    assert strike.ends_on == date(2026, 8, 20)
    assert strike.history.first().history_user == sam


def test_strikes_are_recorded_and_corrected_in_the_admin_through_the_services(world):
    sam = guild_staff("sag-aftra", "sam")
    client = _client(sam)
    real_record = consent_services.strike_period_record
    with mock.patch.object(
        consent_services, "strike_period_record", side_effect=real_record
    ) as called:
        response = client.post(
            reverse("admin:consent_strikeperiod_add"),
            {"guild": guild("sag-aftra").pk, "starts_on": "2026-08-01", "description": "Strike"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert called.call_count == 1
    strike = StrikePeriod.objects.get()
    real_update = consent_services.strike_period_update
    with mock.patch.object(
        consent_services, "strike_period_update", side_effect=real_update
    ) as called:
        response = client.post(
            reverse("admin:consent_strikeperiod_change", args=[strike.pk]),
            {"starts_on": "2026-08-01", "ends_on": "2026-07-01", "description": "Strike"},
        )
    assert called.call_count == 1
    assert response.status_code == 200  # refused: the form again
    assert "cannot end before it starts" in response.content.decode()
    strike.refresh_from_db()
    assert strike.ends_on is None


def test_only_the_guilds_staff_record_its_strikes_whoever_calls_the_service(world):
    from ledger.access import Scope

    with pytest.raises(DomainError) as refused:
        consent_services.strike_period_record(
            actor=world["maya"],
            scope=Scope(studio_ids=frozenset({world["meridian"].pk})),
            guild=guild("sag-aftra"),
            starts_on=date(2026, 8, 1),
        )
    assert refused.value.status_code == 403
    assert not StrikePeriod.objects.exists()


# --- engagements and productions --------------------------------------------------------------


def test_an_engagements_person_and_production_are_read_only_in_the_admin(world):
    engagement = world["ann"]
    other_person = PersonFactory(legal_name="Bea Other", registered_by=world["meridian"])
    other_production = ProductionFactory(studio=world["meridian"], title="Harbor Nights")
    client = _client(world["maya"])
    url = reverse("admin:ledger_engagement_change", args=[engagement.pk])
    page = client.get(url).content.decode()
    assert 'name="person"' not in page and 'name="production"' not in page
    assert "Ann Actor" in page  # shown read-only

    data = _change_data(
        world["maya"],
        Engagement,
        engagement,
        person=other_person.pk,
        production=other_production.pk,
        role="Lead",
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    engagement.refresh_from_db()
    assert (engagement.person_id, engagement.production_id) == (
        world["ann"].person_id,
        world["light"].pk,
    )
    assert engagement.role == "Lead"  # the rest is still edited, through the service
    assert engagement.history.first().history_user == world["maya"]


def test_the_registry_admin_writes_through_the_registry_services(world):
    engagement = world["ann"]
    client = _client(world["maya"])
    data = _change_data(world["maya"], Engagement, engagement, role="Lead")
    real = ledger_services.engagement_update
    with mock.patch.object(ledger_services, "engagement_update", side_effect=real) as called:
        response = client.post(
            reverse("admin:ledger_engagement_change", args=[engagement.pk]), data
        )
    assert response.status_code == 302
    assert called.call_count == 1

    real = ledger_services.production_create
    with mock.patch.object(ledger_services, "production_create", side_effect=real) as called:
        response = client.post(
            reverse("admin:ledger_production_add"),
            {
                "studio": world["meridian"].pk,
                "title": "Harbor Nights",
                "kind": "theatrical",
                "budget_tier": "",
                "start_date": "2025-06-01",
                "status": "development",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert called.call_count == 1


def test_a_productions_studio_is_read_only_in_the_admin(world):
    elsewhere = StudioFactory(name="Northgate", slug="northgate")
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    production = world["light"]
    data = _change_data(root, Production, production, studio=elsewhere.pk, title="Renamed")
    response = _client(root).post(
        reverse("admin:ledger_production_change", args=[production.pk]), data
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    production.refresh_from_db()
    assert production.studio == world["meridian"] and production.title == "Renamed"


@pytest.mark.parametrize(
    ("service", "field", "make"),
    [
        ("engagement_update", "person", lambda w: PersonFactory(legal_name="Bea Other")),
        ("engagement_update", "production", lambda w: ProductionFactory(studio=w["meridian"])),
        ("production_update", "studio", lambda w: StudioFactory(name="Northgate")),
    ],
)
def test_the_services_refuse_to_change_what_is_fixed_after_creation(world, service, field, make):
    target = world["ann"] if service == "engagement_update" else world["light"]
    kwarg = "engagement" if service == "engagement_update" else "production"
    with pytest.raises(DomainError) as refused:
        getattr(ledger_services, service)(
            actor=world["maya"], **{kwarg: target, field: make(world)}
        )
    assert refused.value.code == "fixed_after_create" and field in refused.value.fields
    # Repeating the same value is not a change.
    getattr(ledger_services, service)(
        actor=world["maya"], **{kwarg: target, field: getattr(target, field)}
    )


@pytest.mark.parametrize(
    "serializer", [ledger_api.ProductionSerializer, ledger_api.EngagementSerializer]
)
def test_what_the_api_fixes_after_creation_is_read_only_in_the_admin(world, serializer):
    model = serializer.Meta.model
    obj = world["light"] if model is Production else world["ann"]
    request = RequestFactory().get("/")
    request.user = world["maya"]
    readonly = admin.site._registry[model].get_readonly_fields(request, obj)
    assert set(serializer.fixed_after_create) <= set(readonly)


# --- engagement terms -------------------------------------------------------------------------


def test_the_terms_rule_holds_in_the_admin_as_in_the_api(world, api):
    crew = EngagementFactory(
        production=world["light"],
        agreement=agreement("iatse-basic-2024"),
        classification="crew_hourly",
        rate_unit="hour",
        rate_amount="50.00",
    )
    api.force_authenticate(world["maya"])
    refused = api.post(
        "/api/v1/compensation/engagement-terms/",
        {"engagement": crew.pk, "wage_classification": "not a class!"},
        format="json",
    )
    assert refused.status_code == 400 and "wage_classification" in refused.json()["fields"]
    response = _client(world["maya"]).post(
        reverse("admin:compensation_engagementterms_add"),
        {
            "engagement": crew.pk,
            "wage_classification": "not a class!",
            "kit_rental_amount": "",
            "kit_rental_per": "",
        },
    )
    assert response.status_code == 200
    assert not EngagementTerms.objects.exists()


# --- the class: no admin saves a record with a bare obj.save() --------------------------------

# Admin-only records with no API and no service rules: reference data and staff assignments
# (administrators only), and the payroll keys and webhook endpoints with their own admins.
ADMIN_ONLY = {
    "ledger.guild",
    "ledger.agreement",
    "ledger.studiostaff",
    "ledger.guildstaff",
    "ledger.webhookendpoint",
}
APPS = {"ledger", "consent", "compensation", "reports", "privacy"}


def test_every_writable_admin_of_the_domain_saves_through_a_service(world):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    request = RequestFactory().get("/")
    request.user = root
    bare = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        if model._meta.app_label not in APPS or label in ADMIN_ONLY:
            continue
        writes = model_admin.has_add_permission(request) or model_admin.has_change_permission(
            request
        )
        saves = type(model_admin).save_model
        if writes and saves in (ModelAdmin.save_model, SimpleHistoryAdmin.save_model):
            bare.append(label)
    assert bare == []
