"""Every change is kept in history with the acting user, whatever path it takes (admin, API,
commands), and the writes that would skip history are refused."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient, APIRequestFactory

from core.audit import (
    HistoryBypassError,
    _history_user,
    acting_as,
    audited_bulk_create,
    system_user,
)
from ledger.models import (
    Engagement,
    Membership,
    Person,
    Production,
    ProductionAgreement,
    Studio,
)
from ledger.payroll.auth import ApiKeyAuthentication
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    guild,
    payroll_key,
    studio_staff,
)

pytestmark = pytest.mark.django_db


def latest_history(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


def ledger_history_models():
    return [
        model
        for model in apps.get_app_config("ledger").get_models()
        if model.__name__.startswith("Historical")
        and any(f.name == "history_user" for f in model._meta.get_fields())
    ]


# --- the admin ---------------------------------------------------------------------------------


def change_form_data(response) -> dict:
    """The POST body the admin change form would send back unchanged."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                data[inline_form.add_prefix(name)] = "" if value is None else value
    return data


def test_an_admin_change_records_the_signed_in_user(client):
    studio = StudioFactory()
    user = studio_staff(studio, "maya")
    assert user.is_staff
    production = ProductionFactory(studio=studio, title="The Long Light")
    ProductionAgreementFactory(production=production, agreement=agreement("sag-tvth-2023"))
    client.force_login(user)
    url = f"/admin/ledger/production/{production.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = change_form_data(page)
    data["title"] = "The Longer Light"
    data["end_date"] = "2025-12-19"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    production.refresh_from_db()
    assert production.title == "The Longer Light"
    row = latest_history(Production, production.pk)
    assert row.history_type == "~"
    assert row.title == "The Longer Light"
    assert row.history_user == user


def test_an_admin_add_records_the_signed_in_user(client):
    studio = StudioFactory()
    user = studio_staff(studio, "maya")
    client.force_login(user)
    page = client.get("/admin/ledger/production/add/")
    assert page.status_code == 200
    data = change_form_data(page)
    data.update(
        studio=studio.pk,
        title="Harbor Nights",
        kind="television",
        episode_minutes=60,
        start_date="2026-07-06",
        status="development",
    )
    response = client.post("/admin/ledger/production/add/", data)
    assert response.status_code == 302
    production = Production.objects.get(title="Harbor Nights")
    rows = Production.history.filter(id=production.pk)
    assert [(r.history_type, r.history_user) for r in rows] == [("+", user)]


# --- the API as studio staff -------------------------------------------------------------------


@pytest.fixture
def staff_world():
    studio = StudioFactory(slug="meridian")
    user = studio_staff(studio, "maya")
    production = ProductionFactory(studio=studio, title="The Long Light")
    person = PersonFactory(registered_by=studio)
    return {"studio": studio, "user": user, "production": production, "person": person}


def test_an_api_change_with_a_session_records_the_user(staff_world):
    user, production = staff_world["user"], staff_world["production"]
    client = APIClient()
    client.force_login(user)

    response = client.patch(
        f"/api/v1/productions/{production.pk}/", {"title": "The Longer Light"}, format="json"
    )

    assert response.status_code == 200, response.content
    row = latest_history(Production, production.pk)
    assert (row.history_type, row.title, row.history_user) == ("~", "The Longer Light", user)


def test_api_creates_attach_and_engage_record_the_user(staff_world):
    user, production, person = (
        staff_world["user"],
        staff_world["production"],
        staff_world["person"],
    )
    client = APIClient()
    client.force_authenticate(user)

    attach = client.post(
        f"/api/v1/productions/{production.pk}/attach/", {"agreement": "wga-mba-2023"}, format="json"
    )
    assert attach.status_code == 200, attach.content
    engage = client.post(
        "/api/v1/engagements/",
        {
            "person": person.pk,
            "production": production.pk,
            "agreement": "wga-mba-2023",
            "classification": "writer",
            "rate": {"amount": "45000.00", "unit": "flat"},
            "start_date": "2025-06-02",
        },
        format="json",
    )
    assert engage.status_code == 201, engage.content
    created = client.post(
        "/api/v1/people/",
        {"legal_name": "Rosa Lin", "memberships": [{"guild": "wga", "member_number": "WGA-1"}]},
        format="json",
    )
    assert created.status_code == 201, created.content

    attachment = ProductionAgreement.objects.get(production=production)
    engagement = Engagement.objects.get(pk=engage.json()["id"])
    new_person = Person.objects.get(pk=created.json()["id"])
    membership = new_person.memberships.get()
    for model, pk in [
        (ProductionAgreement, attachment.pk),
        (Engagement, engagement.pk),
        (Person, new_person.pk),
        (Membership, membership.pk),
    ]:
        rows = list(model.history.filter(id=pk))
        assert [(r.history_type, r.history_user) for r in rows] == [("+", user)], model


def test_an_api_detach_records_the_user_on_the_deletion(staff_world):
    user, production = staff_world["user"], staff_world["production"]
    attachment = ProductionAgreementFactory(
        production=production, agreement=agreement("iatse-basic-2024")
    )
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        f"/api/v1/productions/{production.pk}/detach/",
        {"agreement": "iatse-basic-2024"},
        format="json",
    )
    assert response.status_code == 200, response.content
    row = latest_history(ProductionAgreement, attachment.pk)
    assert (row.history_type, row.history_user) == ("-", user)


# --- the API with a payroll key ----------------------------------------------------------------


@pytest.fixture
def payroll_world():
    mine, other = StudioFactory(slug="meridian"), StudioFactory(slug="northgate")
    ours = EngagementFactory(production=ProductionFactory(studio=mine))
    theirs = EngagementFactory(production=ProductionFactory(studio=other))
    key, raw = payroll_key(mine, name="acme")
    return {"key": key, "raw": raw, "ours": ours, "theirs": theirs}


def test_a_payroll_key_reads_only_its_studios(payroll_world):
    client = APIClient()
    response = client.get(
        "/api/v1/engagements/", HTTP_AUTHORIZATION=f"Api-Key {payroll_world['raw']}"
    )
    assert response.status_code == 200, response.content
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [payroll_world["ours"].pk]
    assert payroll_world["theirs"].pk not in ids


def test_a_payroll_key_acts_as_its_owner(payroll_world):
    key, raw = payroll_world["key"], payroll_world["raw"]
    request = APIRequestFactory().get("/api/v1/engagements/", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    user, auth = ApiKeyAuthentication().authenticate(request)
    assert auth == key
    assert user == key.owner
    request.user = user
    # What history would record for a write on this request: the key's owner.
    assert _history_user(request=request) == key.owner


def test_a_payroll_key_cannot_write_and_leaves_no_history(payroll_world):
    engagement = payroll_world["ours"]
    before = Engagement.history.count(), Production.history.count()
    client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {payroll_world['raw']}")
    response = client.patch(
        f"/api/v1/engagements/{engagement.pk}/", {"role": "Captain"}, format="json"
    )
    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "fields"}
    response = client.patch(
        f"/api/v1/productions/{engagement.production_id}/", {"title": "x"}, format="json"
    )
    assert response.status_code == 403
    assert (Engagement.history.count(), Production.history.count()) == before


# --- management commands act as the system user ------------------------------------------------


def test_the_demo_command_records_the_system_user_on_every_row_it_wrote():
    models = ledger_history_models()
    assert {m.__name__ for m in models} >= {
        "HistoricalStudio",
        "HistoricalProduction",
        "HistoricalPerson",
        "HistoricalMembership",
        "HistoricalProductionAgreement",
        "HistoricalEngagement",
        "HistoricalStudioStaff",
        "HistoricalGuildStaff",
    }
    before = {m: set(m.objects.values_list("history_id", flat=True)) for m in models}

    with open("/dev/null", "w") as out:
        call_command("demo", stdout=out)

    system = get_user_model().objects.get(username=settings.SYSTEM_USERNAME)
    assert system == system_user()
    written = 0
    for model in models:
        rows = model.objects.exclude(history_id__in=before[model])
        users = set(rows.values_list("history_user_id", flat=True))
        assert users <= {system.pk}, (model.__name__, users)
        written += rows.count()
    assert written >= 2 + 3 + 20 + 20  # studios, productions, people, memberships at least
    assert Engagement.history.filter(history_user=system).count() == Engagement.objects.count()


def test_create_api_key_records_the_system_user():
    StudioFactory(slug="meridian")
    with open("/dev/null", "w") as out:
        call_command("create_api_key", studio=["meridian"], name="acme", stdout=out)
    key_history = apps.get_model("ledger", "HistoricalPayrollKey").objects.all()
    assert key_history.exists()
    assert {row.history_user for row in key_history} == {system_user()}


# --- writes that would skip history are refused ------------------------------------------------


@pytest.fixture
def rows():
    studio = StudioFactory()
    production = ProductionFactory(studio=studio, title="Original")
    engagement = EngagementFactory(production=production)
    membership = MembershipFactory(person=engagement.person)
    return {
        "studio": studio,
        "production": production,
        "engagement": engagement,
        "membership": membership,
    }


@pytest.mark.parametrize(
    "model, change",
    [
        (Production, {"title": "x"}),
        (Studio, {"name": "x"}),
        (Person, {"legal_name": "x"}),
        (Engagement, {"role": "x"}),
        (Membership, {"member_number": "x"}),
        (ProductionAgreement, {"agreement": None}),
    ],
)
def test_queryset_update_is_refused(rows, model, change):
    before = model.history.count()
    with pytest.raises(HistoryBypassError):
        model.objects.filter(pk__gt=0).update(**change)
    with pytest.raises(HistoryBypassError):
        model.objects.all().update(**change)
    assert model.history.count() == before


def test_update_through_a_related_manager_is_refused(rows):
    with pytest.raises(HistoryBypassError):
        rows["studio"].productions.update(title="x")
    with pytest.raises(HistoryBypassError):
        Production.objects.filter(title="Original").update(title="x")
    rows["production"].refresh_from_db()
    assert rows["production"].title == "Original"


def test_plain_bulk_create_is_refused(rows):
    studio = rows["studio"]
    before = Production.objects.count(), Production.history.count()
    with pytest.raises(HistoryBypassError):
        Production.objects.bulk_create(
            [
                Production(studio=studio, title="A", kind="theatrical", start_date="2025-01-01"),
                Production(studio=studio, title="B", kind="theatrical", start_date="2025-01-01"),
            ]
        )
    with pytest.raises(HistoryBypassError):
        Person.objects.bulk_create([Person(legal_name="Nobody")])
    assert (Production.objects.count(), Production.history.count()) == before
    assert not Person.objects.filter(legal_name="Nobody").exists()


def test_adding_agreements_through_the_m2m_manager_is_refused(rows):
    production = rows["production"]
    before = ProductionAgreement.objects.count()
    with pytest.raises(HistoryBypassError), transaction.atomic():
        production.agreements.add(agreement("wga-mba-2023"))
    assert ProductionAgreement.objects.count() == before


def test_plain_bulk_update_is_refused(rows):
    production = rows["production"]
    production.title = "Changed"
    with pytest.raises(HistoryBypassError):
        Production.objects.bulk_update([production], ["title"])
    engagement = rows["engagement"]
    engagement.rate_amount = Decimal("1.00")
    with pytest.raises(HistoryBypassError):
        Engagement.objects.bulk_update([engagement], ["rate_amount"])
    production.refresh_from_db()
    engagement.refresh_from_db()
    assert production.title == "Original"
    assert engagement.rate_amount == Decimal("1500.00")


# --- the sanctioned bulk path ------------------------------------------------------------------


def test_audited_bulk_create_writes_one_history_row_per_object_with_the_actor():
    studio = StudioFactory()
    actor = UserFactory(username="importer")
    people = [Person(legal_name=f"Imported {i}", registered_by=studio) for i in range(5)]

    created = audited_bulk_create(Person, people, actor=actor)

    assert len(created) == 5
    imported = Person.objects.filter(legal_name__startswith="Imported ")
    assert imported.count() == 5
    rows = Person.history.filter(legal_name__startswith="Imported ")
    assert rows.count() == 5
    assert {r.history_type for r in rows} == {"+"}
    assert {r.history_user for r in rows} == {actor}
    assert sorted(r.id for r in rows) == sorted(imported.values_list("pk", flat=True))


def test_audited_bulk_create_defaults_to_the_acting_user_and_resets_the_guard():
    actor = UserFactory(username="nightly")
    person = PersonFactory()
    with acting_as(actor):
        audited_bulk_create(
            Membership,
            [Membership(person=person, guild=guild("wga"), member_number="WGA-77")],
        )
    row = Membership.history.get(member_number="WGA-77")
    assert row.history_user == actor
    # The guard is back on once the sanctioned path has returned.
    with pytest.raises(HistoryBypassError):
        Membership.objects.bulk_create(
            [Membership(person=person, guild=guild("iatse"), member_number="IA-1")]
        )
