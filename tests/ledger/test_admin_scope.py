"""The admin is scoped like the API: changelists, filters, change, history and add pages show only
what the signed-in user's scope allows, and an object outside it is a 404 (the same answer as a
nonexistent one). Guild staff read their guild's work without being able to change it."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client

from ledger.journal.services import payable_create, payment_confirm
from ledger.models import (
    Engagement,
    JournalTransaction,
    Payable,
    Payment,
    Person,
    Production,
    Studio,
    StudioStaff,
)
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    guild_staff,
    studio_staff,
)

pytestmark = pytest.mark.django_db

NONEXISTENT_ID = 987654321
OTHER = "Bravo"  # every name and title of studio B's data contains it; none of A's does


@pytest.fixture
def world():
    sag, wga = agreement("sag-tvth-2023"), agreement("wga-mba-2023")
    a = StudioFactory(name="Alpha Pictures", slug="alpha")
    b = StudioFactory(name="Bravo Studios", slug="bravo")
    pa = ProductionFactory(studio=a, title="Alpha Feature")
    pb = ProductionFactory(studio=b, title="Bravo Feature")
    ProductionAgreementFactory(production=pa, agreement=sag)
    ProductionAgreementFactory(production=pa, agreement=wga)
    ProductionAgreementFactory(production=pb, agreement=sag)
    ann = PersonFactory(legal_name="Ann Alpha", registered_by=a)
    abe = PersonFactory(legal_name="Abe Alpha", registered_by=a)
    bob = PersonFactory(legal_name="Bob Bravo", registered_by=b)
    return {
        "A": a,
        "B": b,
        "pa": pa,
        "pb": pb,
        "ann": ann,
        "abe": abe,
        "bob": bob,
        "ann_sag": EngagementFactory(person=ann, production=pa, agreement=sag),
        "abe_wga": EngagementFactory(
            person=abe, production=pa, agreement=wga, classification="writer", rate_unit="week"
        ),
        "bob_sag": EngagementFactory(person=bob, production=pb, agreement=sag),
        "alice": studio_staff(a, "alice-a"),
        "alex": studio_staff(a, "alex-a"),
        "sally": guild_staff("sag-aftra", "sally-sag"),
        "will": guild_staff("wga", "will-wga"),
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_url(model, *parts):
    return "/".join(["/admin/ledger", model._meta.model_name, *map(str, parts)]) + "/"


def changelist_rows(client, model):
    response = client.get(admin_url(model))
    assert response.status_code == 200
    return response, set(response.context["cl"].result_list)


def history_id(obj):
    return obj.history.latest("history_date").history_id


# --- studio staff see only their studio -----------------------------------------------------


def test_changelists_list_only_own_rows(world):
    client = logged_in(world["alice"])
    expected = {
        Production: {world["pa"]},
        Person: {world["ann"], world["abe"]},
        Engagement: {world["ann_sag"], world["abe_wga"]},
        Studio: {world["A"]},
    }
    for model, rows in expected.items():
        response, seen = changelist_rows(client, model)
        assert seen == rows, model
        assert OTHER not in response.content.decode(), model


def filter_choices(response, field_name):
    """The choices a changelist's sidebar filter on `field_name` offers (None: not shown)."""
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "field_path", None) == field_name:
            return set(spec.lookup_choices)
    return None


def test_list_filters_do_not_name_other_studios(world):
    # A second studio and production for alice, so that each related-only filter has two
    # choices in scope and is shown (Django hides a filter with a single choice).
    sister = StudioFactory(name="Alpha Sister", slug="alpha-sister")
    StudioStaff.objects.create(user=world["alice"], studio=sister)
    sequel = ProductionFactory(studio=sister, title="Alpha Sequel")
    EngagementFactory(person=world["ann"], production=sequel, agreement=agreement("sag-tvth-2023"))
    PersonFactory(legal_name="Amy Alpha", registered_by=sister)
    a = world["A"]
    expected = {
        Production: ("studio", {(a.pk, "Alpha Pictures"), (sister.pk, "Alpha Sister")}),
        Person: ("registered_by", {(a.pk, "Alpha Pictures"), (sister.pk, "Alpha Sister")}),
        Engagement: (
            "production",
            {(world["pa"].pk, "Alpha Feature"), (sequel.pk, "Alpha Sequel")},
        ),
    }
    client = logged_in(world["alice"])
    for model, (field_name, choices) in expected.items():
        response, _rows = changelist_rows(client, model)
        assert filter_choices(response, field_name) == choices, model
        assert OTHER not in response.content.decode(), model

    # The same filter for SAG-AFTRA staff does name studio B, whose SAG work they see (and the
    # sister studio, whose sequel has a SAG-AFTRA engagement).
    response, _rows = changelist_rows(logged_in(world["sally"]), Production)
    assert filter_choices(response, "studio") == {
        (a.pk, "Alpha Pictures"),
        (sister.pk, "Alpha Sister"),
        (world["B"].pk, "Bravo Studios"),
    }


def test_filtering_a_changelist_by_another_studio_shows_nothing_of_it(world):
    client = logged_in(world["alice"])
    for model, params in [
        (Production, {"studio__id__exact": world["B"].pk}),
        (Engagement, {"production__id__exact": world["pb"].pk}),
        (Person, {"registered_by__id__exact": world["B"].pk}),
    ]:
        response = client.get(admin_url(model), params)
        # Django ignores a filter it does not show (one choice only), so own rows may remain;
        # none of B's rows may appear, nor B's name.
        assert response.status_code == 200, model
        rows = list(response.context["cl"].result_list)
        assert all(OTHER not in str(row) for row in rows), rows
        assert OTHER not in response.content.decode()


@pytest.mark.parametrize("page", ["change", "history"])
@pytest.mark.parametrize("name", ["pb", "bob", "bob_sag", "B"])
def test_pages_of_another_studio_are_404(world, page, name):
    obj = world[name]
    client = logged_in(world["alice"])
    response = client.get(admin_url(type(obj), obj.pk, page))
    assert response.status_code == 404
    assert OTHER not in response.content.decode()
    assert client.get(admin_url(type(obj), NONEXISTENT_ID, page)).status_code == 404
    assert client.get(admin_url(type(obj), "not-an-id", page)).status_code == 404
    # In scope, the same pages render: the 404s are about scope.
    own = {"pb": "pa", "bob": "ann", "bob_sag": "ann_sag", "B": "A"}[name]
    assert client.get(admin_url(type(obj), world[own].pk, page)).status_code == 200


@pytest.mark.parametrize("name", ["pb", "bob", "bob_sag", "B"])
def test_delete_page_of_another_studio_answers_like_a_missing_object(world, name):
    obj = world[name]
    client = logged_in(world["alice"])
    response = client.get(admin_url(type(obj), obj.pk, "delete"))
    missing = client.get(admin_url(type(obj), NONEXISTENT_ID, "delete"))
    assert response.status_code in (403, 404)  # only administrators delete
    assert response.status_code == missing.status_code
    assert OTHER not in response.content.decode()
    response = client.post(admin_url(type(obj), obj.pk, "delete"), {"post": "yes"})
    assert response.status_code in (403, 404)
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("name", ["pb", "bob", "bob_sag", "B"])
def test_history_versions_of_another_studio_are_404_and_unwritable(world, name):
    obj = world[name]
    model = type(obj)
    client = logged_in(world["alice"])
    url = admin_url(model, obj.pk, "history", history_id(obj))
    response = client.get(url)
    assert response.status_code == 404
    assert OTHER not in response.content.decode()
    before = (obj.history.count(), model.objects.filter(pk=obj.pk).values().get())
    response = client.post(url, {"title": "Taken", "legal_name": "Taken", "name": "Taken"})
    assert response.status_code == 404
    assert (obj.history.count(), model.objects.filter(pk=obj.pk).values().get()) == before


def test_changing_another_studios_production_through_the_change_form_is_refused(world):
    pb = world["pb"]
    client = logged_in(world["alice"])
    response = client.post(admin_url(Production, pb.pk, "change"), production_form(pb, "Taken"))
    assert response.status_code == 404
    pb.refresh_from_db()
    assert pb.title == "Bravo Feature"


def test_add_forms_offer_only_own_studio_choices(world):
    client = logged_in(world["alice"])
    response = client.get(admin_url(Engagement, "add"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert set(form.fields["production"].queryset) == {world["pa"]}
    people = set(form.fields["person"].queryset)
    assert world["bob"] not in people
    assert {world["ann"], world["abe"]} <= people
    assert OTHER not in response.content.decode()

    for model, field_name in [(Production, "studio"), (Person, "registered_by")]:
        response = client.get(admin_url(model, "add"))
        assert response.status_code == 200
        assert set(response.context["adminform"].form.fields[field_name].queryset) == {world["A"]}
        assert OTHER not in response.content.decode()


def test_admin_add_of_engagement_on_another_studios_production_is_refused(world):
    client = logged_in(world["alice"])
    count = Engagement.objects.count()
    response = client.post(
        admin_url(Engagement, "add"),
        {
            "person": world["ann"].pk,
            "production": world["pb"].pk,
            "agreement": agreement("sag-tvth-2023").pk,
            "classification": "day_performer",
            "role": "",
            "rate_amount": "100.00",
            "rate_unit": "day",
            "rate_currency": "USD",
            "start_date": "2025-07-01",
        },
    )
    assert response.status_code == 200  # the form again, with an error
    assert "production" in response.context["adminform"].form.errors
    assert Engagement.objects.count() == count


# --- guild staff read their guild's work, read-only ----------------------------------------


def test_guild_staff_see_their_guilds_productions(world):
    _response, seen = changelist_rows(logged_in(world["sally"]), Production)
    assert seen == {world["pa"], world["pb"]}
    _response, seen = changelist_rows(logged_in(world["will"]), Production)
    assert seen == {world["pa"]}
    _response, seen = changelist_rows(logged_in(world["will"]), Engagement)
    assert seen == {world["abe_wga"]}
    client = logged_in(world["will"])
    assert client.get(admin_url(Production, world["pb"].pk, "change")).status_code == 404
    assert client.get(admin_url(Production, world["pb"].pk, "history")).status_code == 404


@pytest.mark.parametrize(("user", "name"), [("sally", "pa"), ("sally", "pb"), ("will", "pa")])
def test_guild_staff_change_page_is_read_only(world, user, name):
    production = world[name]
    client = logged_in(world[user])
    url = admin_url(Production, production.pk, "change")
    response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert production.title in content
    assert 'name="_save"' not in content
    assert 'name="_continue"' not in content
    assert not response.context["has_change_permission"]

    versions = production.history.count()
    response = client.post(url, production_form(production, "Guild edit"))
    assert response.status_code == 403
    response = client.post(
        admin_url(Production, production.pk, "history", history_id(production)),
        production_form(production, "Guild edit"),
    )
    assert response.status_code == 403
    assert client.get(admin_url(Production, "add")).status_code == 403
    production.refresh_from_db()
    assert production.title != "Guild edit"
    assert production.history.count() == versions
    assert client.get(admin_url(Production, production.pk, "history")).status_code == 200


# --- history names who acted ---------------------------------------------------------------


def production_form(production, title):
    """The production change form as the admin would post it, with the title changed."""
    data = {
        "studio": production.studio_id,
        "title": title,
        "kind": production.kind,
        "episode_minutes": production.episode_minutes or "",
        "budget_tier": production.budget_tier,
        "start_date": production.start_date.isoformat(),
        "end_date": production.end_date.isoformat() if production.end_date else "",
        "status": production.status,
    }
    attachments = list(production.attachments.order_by("agreement__code"))
    data.update(
        {
            "attachments-TOTAL_FORMS": len(attachments),
            "attachments-INITIAL_FORMS": len(attachments),
            "attachments-MIN_NUM_FORMS": 0,
            "attachments-MAX_NUM_FORMS": 1000,
        }
    )
    for i, attachment in enumerate(attachments):
        data[f"attachments-{i}-id"] = attachment.pk
        data[f"attachments-{i}-production"] = production.pk
        data[f"attachments-{i}-agreement"] = attachment.agreement_id
    return data


def test_admin_history_shows_the_acting_user(world):
    pa = world["pa"]
    response = logged_in(world["alice"]).post(
        admin_url(Production, pa.pk, "change"), production_form(pa, "Alpha Feature (recut)")
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    pa.refresh_from_db()
    assert pa.title == "Alpha Feature (recut)"
    latest = pa.history.latest("history_date")
    assert latest.history_user == world["alice"]

    # Read by another user of the studio, so the page's own "Welcome, …" cannot supply the name.
    response = logged_in(world["alex"]).get(admin_url(Production, pa.pk, "history"))
    assert response.status_code == 200
    table = re.search(
        r'<table id="change-history".*?</table>', response.content.decode(), re.S
    ).group(0)
    assert "alice-a" in table
    assert "Alpha Feature (recut)" in table


# --- the journal's admin pages are scoped the same way -------------------------------------


@pytest.fixture
def journal(world):
    actor = world["alice"]
    out = {}
    for name, engagement in [("a", world["ann_sag"]), ("b", world["bob_sag"])]:
        payable = payable_create(
            actor=actor,
            production=engagement.production,
            person=engagement.person,
            engagement=engagement,
            rule="admin-scope",
            description=f"Day rate {engagement.person.legal_name}",
            amount=Decimal("1000.00"),
            currency="USD",
            period_from=date(2025, 6, 2),
            period_to=date(2025, 6, 6),
            due_date=date(2025, 6, 20),
            source_type="admin-scope",
            source_id=name,
        )
        result = payment_confirm(
            actor=actor,
            client="user:admin-scope",
            idempotency_key=f"admin-scope-{name}",
            payable=payable,
            amount=Decimal("100.00"),
            paid_at=datetime(2025, 6, 21, 12, 0, tzinfo=UTC),
            payroll_reference=f"ADMIN-{name}",
            render=lambda payment: {"id": payment.pk},
        )
        payment = Payment.objects.get(pk=result.body["id"])
        out[f"payable_{name}"] = payable
        out[f"payment_{name}"] = payment
        out[f"transaction_{name}"] = payment.transaction
    return out


def test_journal_admin_lists_only_own_studio(world, journal):
    client = logged_in(world["alex"])
    expected = {
        Payable: {journal["payable_a"]},
        Payment: {journal["payment_a"]},
        JournalTransaction: set(
            JournalTransaction.objects.filter(studio=world["A"]).order_by("seq")
        ),
    }
    for model, rows in expected.items():
        response, seen = changelist_rows(client, model)
        assert {r.pk for r in seen} == {r.pk for r in rows}, model
        assert rows
        assert OTHER not in response.content.decode(), model
    for name in ("payable_b", "payment_b", "transaction_b"):
        obj = journal[name]
        response = client.get(admin_url(type(obj), obj.pk, "change"))
        assert response.status_code == 404, name
        own = journal[name.replace("_b", "_a")]
        assert client.get(admin_url(type(own), own.pk, "change")).status_code == 200
    response = client.get(admin_url(JournalTransaction, "balances"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Ann Alpha" in content
    assert OTHER not in content


def test_journal_admin_reverse_action_ignores_other_studios_transactions(world, journal):
    client = logged_in(world["alice"])
    count = JournalTransaction.objects.count()
    response = client.post(
        admin_url(JournalTransaction),
        {
            "action": "reverse_selected",
            "_selected_action": [str(journal["transaction_b"].pk)],
        },
    )
    assert response.status_code in (200, 302)
    assert JournalTransaction.objects.count() == count
    assert not JournalTransaction.objects.filter(reverses=journal["transaction_b"]).exists()
    # The same action on an own transaction reverses it.
    client.post(
        admin_url(JournalTransaction),
        {"action": "reverse_selected", "_selected_action": [str(journal["transaction_a"].pk)]},
    )
    assert JournalTransaction.objects.filter(reverses=journal["transaction_a"]).exists()
