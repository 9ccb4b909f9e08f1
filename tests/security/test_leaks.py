"""What must not leak: outside a caller's scope an id is answered exactly as an id that does not
exist, a refused unique value does not confirm another tenant's record, a consent receipt goes
only to the person's address on record, and a form body means what the same JSON body means."""

import importlib
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework import serializers

from consent.services import ai_use_record
from core.api.fields import StrictBooleanField
from ledger.access import Scope
from ledger.models import Guild, Membership
from ledger.registry.models import membership_number_unavailable
from reports.models import ReceiptDelivery, Subscription
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    grant_consent,
    guild,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import make_payable

pytestmark = pytest.mark.django_db

NONEXISTENT_ID = 987654321
APPS = ("consent", "compensation", "reports", "privacy")
API_MODULES = [f"{app}.api" for app in APPS] + [
    "ledger.registry.api",
    "ledger.payroll.api",
    "ledger.webhooks.api",
]
# Reference data every staff caller reads (GET guilds/, agreements/): naming one leaks nothing.
REFERENCE = {"ledger.guild", "ledger.agreement"}
# Serializers that only render answers (their views take no body through them).
OUTPUT_ONLY = {
    "LineSerializer",
    "ResidualLineSerializer",
    "TransactionSerializer",
    "PostingSerializer",
    "PayableSerializer",
    "ErasureRecordSerializer",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world():
    meridian = StudioFactory(name="Meridian Pictures", slug="meridian")
    northgate = StudioFactory(name="Northgate", slug="northgate")
    light = ProductionFactory(studio=meridian, title="The Long Light")
    ember = ProductionFactory(studio=northgate, title="Ember")
    ann = EngagementFactory(
        production=light, person__legal_name="Ann Actor", person__registered_by=meridian
    )
    ann.person.email = "ann@actor.test"
    ann.person.save()
    nell = EngagementFactory(
        production=ember, person__legal_name="Nell North", person__registered_by=northgate
    )
    return {
        "meridian": meridian,
        "northgate": northgate,
        "light": light,
        "ember": ember,
        "ann": ann,
        "nell": nell,
        "maya": studio_staff(meridian, "maya"),
        "nora": studio_staff(northgate, "nora"),
    }


def _api(api, user):
    api.force_authenticate(user)
    return api


def _same_as_missing(response, missing, field, value) -> dict:
    """`response` (naming `value`) says exactly what `missing` (naming NONEXISTENT_ID) says."""
    body, other = response.json(), missing.json()
    assert response.status_code == missing.status_code == 400, (body, other)
    assert body["code"] == other["code"]

    def named(text):
        return text.replace(str(NONEXISTENT_ID), str(value))

    assert body["message"] == named(other["message"])
    assert body["fields"][field] == [named(m) for m in other["fields"][field]]
    return body


# --- ids outside the caller's scope -----------------------------------------------------------


def test_subscribing_to_another_studio_is_answered_as_a_studio_that_does_not_exist(api, world):
    nora = world["nora"]
    theirs = _api(api, nora).post(
        "/api/v1/report-subscriptions/", {"studio": world["meridian"].pk}, format="json"
    )
    missing = _api(api, nora).post(
        "/api/v1/report-subscriptions/", {"studio": NONEXISTENT_ID}, format="json"
    )
    body = _same_as_missing(theirs, missing, "studio", world["meridian"].pk)
    assert "Meridian" not in str(body)
    assert not Subscription.objects.exists()


def test_subscribing_to_another_guild_is_answered_as_a_guild_that_does_not_exist(api, world):
    nora = world["nora"]
    theirs = _api(api, nora).post(
        "/api/v1/report-subscriptions/", {"guild": "sag-aftra"}, format="json"
    )
    missing = _api(api, nora).post(
        "/api/v1/report-subscriptions/", {"guild": "no-such-guild"}, format="json"
    )
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json()["code"] == missing.json()["code"]
    assert theirs.json()["fields"]["guild"] == [
        m.replace("no-such-guild", "sag-aftra") for m in missing.json()["fields"]["guild"]
    ]
    assert not Subscription.objects.exists()
    # The guild's own staff subscribe as before.
    sam = guild_staff("sag-aftra", "sam")
    mine = _api(api, sam).post(
        "/api/v1/report-subscriptions/", {"guild": "sag-aftra"}, format="json"
    )
    assert mine.status_code == 201


def _other_tenant_rows(world) -> dict:
    """One row of each kind an API body may name by id, all Northgate's (outside Meridian's)."""
    root = UserFactory(username="root-recorder")
    consent = grant_consent(world["nell"], actor=root)
    uncovered = EngagementFactory(production=world["ember"], person__legal_name="Uma Uncovered")
    use = ai_use_record(
        actor=root,
        scope=Scope(superuser=True),
        production=world["ember"],
        person=uncovered.person,
        kind="replica_creation",
        starts_at=datetime(2025, 6, 10, 9, tzinfo=UTC),
        description="scan",
    )
    assert use.status == "violation"
    payable = make_payable(actor=root, production=world["ember"], person=world["nell"].person)
    rows = [
        world["northgate"],
        world["ember"],
        world["nell"].person,
        world["nell"],
        consent,
        use,
        payable,
    ]
    return {row._meta.label_lower: row for row in rows}


def _serializer_classes():
    for module in API_MODULES:
        importlib.import_module(module)
    found, stack = set(), [serializers.BaseSerializer]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                stack.append(sub)
    return sorted(
        (
            cls
            for cls in found
            if cls.__module__.split(".")[0] in (*APPS, "ledger")
            and not issubclass(cls, serializers.ListSerializer)
            # a base class (the project's ModelSerializer) has no model of its own
            and not (issubclass(cls, serializers.ModelSerializer) and not hasattr(cls, "Meta"))
        ),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def _writable_relations(serializer, path=""):
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ManyRelatedField):
            field = field.child_relation
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.BaseSerializer):
            yield from _writable_relations(field, f"{path}{name}.")
        elif isinstance(field, serializers.RelatedField):
            yield f"{path}{name}", field


def _callers(world):
    key, _raw = payroll_key(world["meridian"], name="payroll-meridian")
    factory = RequestFactory()
    staff = factory.post("/")
    staff.user = world["maya"]
    payroll = factory.post("/")
    payroll.user, payroll.auth = AnonymousUser(), key
    return {"studio staff": staff, "payroll key": payroll}


def test_no_api_body_resolves_an_id_outside_the_callers_scope(world):
    """Every writable related field of every API serializer looks ids up in the caller's scope,
    so that another tenant's row is refused exactly as a missing one."""
    others = _other_tenant_rows(world)
    checked, unknown, leaks = [], [], []
    for cls in _serializer_classes():
        if cls.__qualname__ in OUTPUT_ONLY:
            continue
        for caller, request in _callers(world).items():
            serializer = cls(context={"request": request})
            for name, field in _writable_relations(serializer):
                model = field.get_queryset().model._meta.label_lower
                if model in REFERENCE:
                    continue
                if model not in others:
                    unknown.append(f"{cls.__qualname__}.{name} ({model})")
                    continue
                checked.append(f"{cls.__qualname__}.{name}")
                if field.get_queryset().filter(pk=others[model].pk).exists():
                    leaks.append(f"{cls.__qualname__}.{name} as {caller}")
    assert unknown == [], f"add a row of that kind to _other_tenant_rows: {unknown}"
    assert leaks == [], leaks
    assert "SubscriptionSerializer.studio" in checked
    assert "PaymentSerializer.payable" in checked


# --- unique values held by another tenant ------------------------------------------------------


def test_a_member_number_held_elsewhere_is_refused_without_confirming_it(api, world):
    sag = guild("sag-aftra")
    MembershipFactory(person=world["nell"].person, guild=sag, member_number="SAG-777")
    MembershipFactory(
        person=PersonFactory(registered_by=world["meridian"]), guild=sag, member_number="SAG-555"
    )
    url = f"/api/v1/people/{world['ann'].person_id}/"
    elsewhere = _api(api, world["maya"]).patch(
        url, {"memberships": [{"guild": "sag-aftra", "member_number": "SAG-777"}]}, format="json"
    )
    at_home = _api(api, world["maya"]).patch(
        url, {"memberships": [{"guild": "sag-aftra", "member_number": "SAG-555"}]}, format="json"
    )
    assert elsewhere.status_code == at_home.status_code == 400
    body = elsewhere.json()
    assert body["fields"]["memberships"] == [membership_number_unavailable(sag)]
    # Held in another tenant or in one's own, the answer is the same.
    assert (body["code"], body["message"]) == (at_home.json()["code"], at_home.json()["message"])
    assert "belongs" not in str(body) and "Nell" not in str(body)
    assert not Membership.objects.filter(person=world["ann"].person).exists()


def test_the_database_rule_on_member_numbers_says_the_same_in_the_admin(world):
    sag = guild("sag-aftra")
    MembershipFactory(person=world["nell"].person, guild=sag, member_number="SAG-777")
    person = world["ann"].person
    client = Client()
    client.force_login(world["maya"])
    url = reverse("admin:ledger_person_change", args=[person.pk])
    response = client.post(
        url,
        {
            "legal_name": person.legal_name,
            "professional_name": "",
            "email": person.email,
            "payroll_ref": person.payroll_ref,
            "registered_by": world["meridian"].pk,
            "date_of_death": "",
            "authorized_representative": "",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-guild": sag.pk,
            "memberships-0-member_number": "SAG-777",
            "memberships-0-person": person.pk,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200, page[:2000]
    assert "cannot be recorded" in page
    assert "already exists" not in page
    assert not Membership.objects.filter(person=person).exists()


# --- consent receipts -------------------------------------------------------------------------


def test_a_receipt_goes_only_to_the_persons_address_on_record(api, world):
    consent = grant_consent(world["ann"], actor=world["maya"])
    url = f"/api/v1/receipts/{consent.pk}/send/"
    refused = _api(api, world["maya"]).post(url, {"email": "thief@example.test"}, format="json")
    assert refused.status_code == 400 and "email" in refused.json()["fields"]
    assert mail.outbox == [] and not ReceiptDelivery.objects.exists()

    sent = _api(api, world["maya"]).post(url, {}, format="json")
    assert sent.status_code == 201, sent.json()
    assert [m.to for m in mail.outbox] == [["ann@actor.test"]]
    assert ReceiptDelivery.objects.get().email == "ann@actor.test"


def test_the_admins_receipt_action_sends_to_the_address_on_record(world):
    consent = grant_consent(world["ann"], actor=world["maya"])
    client = Client()
    client.force_login(world["maya"])
    response = client.post(
        reverse("admin:reports_consentreceipt_changelist"),
        {"action": "send_receipts", "_selected_action": [consent.pk], "email": "x@evil.test"},
    )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["ann@actor.test"]]


# --- booleans in form bodies ------------------------------------------------------------------


def test_a_subscription_without_active_is_active(api, world):
    response = _api(api, world["maya"]).post(
        "/api/v1/report-subscriptions/", {"studio": world["meridian"].pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["active"] is True
    assert Subscription.objects.get().active is True


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=BoUnDaRy", "application/x-www-form-urlencoded"]
)
def test_a_form_body_for_a_subscription_is_refused(world, content_type):
    """Form rules read an omitted yes/no as false: the API takes JSON only (415), writing
    nothing, rather than subscribing someone inactive."""
    client = Client()
    client.force_login(world["maya"])
    body = (
        f"studio={world['meridian'].pk}"
        if content_type.startswith("application/")
        else (
            '--BoUnDaRy\r\nContent-Disposition: form-data; name="studio"\r\n\r\n'
            f"{world['meridian'].pk}\r\n--BoUnDaRy--\r\n"
        )
    )
    response = client.post("/api/v1/report-subscriptions/", body, content_type=content_type)
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_media_type"
    assert not Subscription.objects.exists()


class _Body(serializers.Serializer):
    defaulted = StrictBooleanField(default=True)
    optional = StrictBooleanField(required=False)
    required = StrictBooleanField()


@pytest.mark.parametrize(
    "data",
    [{}, QueryDict("")],
    ids=["json", "form"],
)
def test_a_boolean_left_out_means_the_same_in_json_and_in_a_form(data):
    body = _Body(data=data)
    assert not body.is_valid()
    assert body.errors == {"required": ["This field is required."]}
    body = _Body(data={"required": True} if isinstance(data, dict) else QueryDict("required=true"))
    assert body.is_valid(), body.errors
    assert body.validated_data == {"defaulted": True, "required": True}


def test_guild_choices_in_a_subscription_are_only_the_callers(world):
    request = RequestFactory().post("/")
    request.user = world["nora"]
    from reports.api import SubscriptionSerializer

    serializer = SubscriptionSerializer(context={"request": request})
    assert list(serializer.fields["guild"].get_queryset()) == list(Guild.objects.none())
