"""The access matrix: every role × every API route × objects inside and outside its scope.

The world has three studios. Studio A's production `pa` works under SAG-AFTRA and WGA, its
production `pa_dev` under no agreement yet; studio B's `pb` works under SAG-AFTRA only; studio C's
`pc` under IATSE. So SAG-AFTRA staff see SAG work at A and B, WGA staff see only A's WGA work, and
every role has objects outside its scope for every resource. Each engagement has an open payable
(its obligation transaction) and most have a partial payment; each studio's payroll key has a
webhook endpoint.

`MATRIX` declares every (url name, HTTP method) the API serves; `test_matrix_declares_every_route`
fails as soon as a route is added to ledger/urls.py (router or not) without being declared here,
and the parametrised tests below are generated from the matrix.
"""

import csv
import io
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from ledger import urls as ledger_urls
from ledger.journal.services import payable_create, payment_confirm
from ledger.models import (
    Agreement,
    Engagement,
    Guild,
    IdempotencyRecord,
    JournalTransaction,
    Membership,
    Payable,
    Payment,
    Person,
    Posting,
    Production,
    ProductionAgreement,
    Studio,
)
from ledger.webhooks.services import WebhookDelivery, WebhookEndpoint
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
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import (
    assert_error,
    assert_matrix_declares_every_route,
    built_once,
    csv_text,
    kind_of,
    list_ids,
    role_client,
    routes_of,
)

pytestmark = pytest.mark.django_db

# --- the matrix ----------------------------------------------------------------------------

# Scoped resources (router basenames) and global reference data.
SCOPED = [
    "studio",
    "person",
    "production",
    "engagement",
    "payable",
    "payment",
    "transaction",
    "webhook-endpoint",
]
REFERENCE = {"guild": Guild, "agreement": Agreement}

# Every route the API serves, and how this file checks it:
#   reference — every authenticated role reads all of it; anonymous gets 401
#   list      — exactly the role's scope; other tenants' rows are absent
#   export    — the CSV twin of a list: exactly the role's scope
#   detail    — 200 in scope, 404 (the same answer as a nonexistent id) outside it
#   write     — on another tenant's object: the same answer as on a nonexistent id (404 for a
#               caller who may write here; 403 for one who may write nothing; 401 anonymous),
#               and nothing written
#   create    — naming another tenant's object: refused like a nonexistent one, nothing written
#   owned     — a create that names no other object: it belongs to the caller, and other
#               tenants cannot see it
#   balances  — totals only over the scope; filtering on another tenant's object is empty,
#               exactly like a nonexistent one
MATRIX = {
    ("guild-list", "get"): "reference",
    ("guild-detail", "get"): "reference",
    ("agreement-list", "get"): "reference",
    ("agreement-detail", "get"): "reference",
    ("studio-list", "get"): "list",
    ("studio-list", "post"): "create",
    ("studio-detail", "get"): "detail",
    ("studio-detail", "put"): "write",
    ("studio-detail", "patch"): "write",
    ("person-list", "get"): "list",
    ("person-list", "post"): "create",
    ("person-detail", "get"): "detail",
    ("person-detail", "put"): "write",
    ("person-detail", "patch"): "write",
    ("production-list", "get"): "list",
    ("production-list", "post"): "create",
    ("production-detail", "get"): "detail",
    ("production-detail", "put"): "write",
    ("production-detail", "patch"): "write",
    ("production-attach", "post"): "write",
    ("production-detach", "post"): "write",
    ("engagement-list", "get"): "list",
    ("engagement-list", "post"): "create",
    ("engagement-detail", "get"): "detail",
    ("engagement-detail", "put"): "write",
    ("engagement-detail", "patch"): "write",
    ("payable-list", "get"): "list",
    ("payable-export", "get"): "export",
    ("payable-detail", "get"): "detail",
    ("payment-list", "get"): "list",
    ("payment-list", "post"): "create",
    ("payment-export", "get"): "export",
    ("payment-detail", "get"): "detail",
    ("transaction-list", "get"): "list",
    ("transaction-detail", "get"): "detail",
    ("transaction-reverse", "post"): "write",
    ("webhook-endpoint-list", "get"): "list",
    ("webhook-endpoint-list", "post"): "owned",
    ("webhook-endpoint-detail", "get"): "detail",
    ("webhook-endpoint-detail", "put"): "write",
    ("webhook-endpoint-detail", "patch"): "write",
    ("balances", "get"): "balances",
}
routes = partial(routes_of, MATRIX)  # the routes of one kind, for parametrize

ROLES = ["studio_a", "studio_b", "sag", "wga", "payroll_a", "payroll_b", "anonymous"]
AUTHENTICATED = [r for r in ROLES if r != "anonymous"]
STUDIO_STAFF = {"studio_a", "studio_b"}
PAYROLL = {"payroll_a", "payroll_b"}
# Resources where a payroll key may write (everything else is read-only for it).
PAYROLL_WRITES = {"payment", "webhook-endpoint"}

_A_REGISTRY = {
    "studio": {"A"},
    "production": {"pa", "pa_dev"},
    "engagement": {"ann_sag", "abe_wga"},
    "payable": {"pay_ann", "pay_abe"},
    "payment": {"pm_ann", "pm_abe"},
    "transaction": {"ob_ann", "ob_abe", "paid_ann", "paid_abe"},
}
_B_REGISTRY = {
    "studio": {"B"},
    "production": {"pb"},
    "engagement": {"cat_sag", "bob_sag"},
    "payable": {"pay_cat", "pay_bob"},
    "payment": {"pm_bob"},
    "transaction": {"ob_cat", "ob_bob", "paid_bob"},
}

# What each role sees, by resource (names of the world's objects).
VISIBLE = {
    "studio_a": {
        **_A_REGISTRY,
        "person": {"ann", "abe", "ava", "cat"},
        "webhook-endpoint": set(),
    },
    "studio_b": {
        **_B_REGISTRY,
        "person": {"cat", "bob", "bea", "sam"},
        "webhook-endpoint": set(),
    },
    "sag": {
        "studio": {"A", "B"},
        "production": {"pa", "pb"},
        "person": {"ann", "cat", "bob", "sam"},
        "engagement": {"ann_sag", "cat_sag", "bob_sag"},
        "payable": {"pay_ann", "pay_cat", "pay_bob"},
        "payment": {"pm_ann", "pm_bob"},
        "transaction": set(),
        "webhook-endpoint": set(),
    },
    "wga": {
        "studio": {"A"},
        "production": {"pa"},
        "person": {"abe"},
        "engagement": {"abe_wga"},
        "payable": {"pay_abe"},
        "payment": {"pm_abe"},
        "transaction": set(),
        "webhook-endpoint": set(),
    },
    "payroll_a": {**_A_REGISTRY, "person": {"ann", "abe"}, "webhook-endpoint": {"wh_a"}},
    "payroll_b": {**_B_REGISTRY, "person": {"cat", "bob"}, "webhook-endpoint": {"wh_b"}},
    "anonymous": {kind: set() for kind in SCOPED},
}

# Resources a role sees nothing of, on purpose: guild staff see no journal transactions (one may
# touch people outside their guild); webhook endpoints belong to payroll keys alone.
EMPTY_BY_DESIGN = {
    ("sag", "transaction"),
    ("wga", "transaction"),
    *((role, "webhook-endpoint") for role in ("studio_a", "studio_b", "sag", "wga")),
}

NONEXISTENT_ID = 987654321
NONEXISTENT_UUID = "00000000-0000-4000-8000-00000000abcd"


def missing_key(kind):
    return NONEXISTENT_UUID if kind == "transaction" else NONEXISTENT_ID


# --- the world -----------------------------------------------------------------------------


class World:
    def __init__(self):
        self.objects = {kind: {} for kind in SCOPED}
        self.users = {}
        self.raw_keys = {}

    def __getitem__(self, kind):
        return self.objects[kind]

    def name_of(self, kind, pk):
        return next(n for n, obj in self[kind].items() if str(obj.pk) == str(pk))

    def hidden(self, role, kind):
        return sorted(set(self[kind]) - VISIBLE[role][kind])

    def client(self, role) -> APIClient:
        """Payroll roles call with their key; staff are logged in (a session)."""
        return role_client(role, self.users, self.raw_keys, login=True)


_refs = itertools.count(1)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The world, built once for the module inside a transaction rolled back at its end. Each
    test runs inside its own savepoint of it (pytest-django's atomic), so no test's writes reach
    another test. Tests must not change the World's Python objects (re-read rows instead)."""
    with built_once(django_db_blocker, build_world) as world:
        yield world


@pytest.fixture
def world(shared_world) -> World:
    return shared_world


def build_world() -> World:
    w = World()
    sag, wga, iatse = (
        agreement("sag-tvth-2023"),
        agreement("wga-mba-2023"),
        agreement("iatse-basic-2024"),
    )
    w["studio"].update(
        A=StudioFactory(name="Alpha Pictures", slug="alpha"),
        B=StudioFactory(name="Bravo Studios", slug="bravo"),
        C=StudioFactory(name="Charlie Films", slug="charlie"),
    )
    studio = w["studio"]
    w["production"].update(
        pa=ProductionFactory(studio=studio["A"], title="Alpha Feature"),
        pa_dev=ProductionFactory(studio=studio["A"], title="Alpha In Development"),
        pb=ProductionFactory(studio=studio["B"], title="Bravo Feature"),
        pc=ProductionFactory(studio=studio["C"], title="Charlie Feature"),
    )
    production = w["production"]
    ProductionAgreementFactory(production=production["pa"], agreement=sag)
    ProductionAgreementFactory(production=production["pa"], agreement=wga)
    ProductionAgreementFactory(production=production["pb"], agreement=sag)
    ProductionAgreementFactory(production=production["pc"], agreement=iatse)
    registered = {
        "ann": "A",
        "abe": "A",
        "ava": "A",
        "cat": "A",  # registered by A, engaged only on B's production
        "bob": "B",
        "bea": "B",
        "sam": "B",  # a SAG-AFTRA member, not engaged anywhere
        "cid": "C",
    }
    for name, s in registered.items():
        w["person"][name] = PersonFactory(
            legal_name=f"{name.title()} Person", registered_by=studio[s]
        )
    person = w["person"]
    MembershipFactory(person=person["sam"], guild=guild("sag-aftra"), member_number="SAG-1")
    engage = [
        ("ann_sag", "ann", "pa", sag, "day_performer", "day"),
        ("abe_wga", "abe", "pa", wga, "writer", "week"),
        ("cat_sag", "cat", "pb", sag, "day_performer", "day"),
        ("bob_sag", "bob", "pb", sag, "day_performer", "day"),
        ("cid_iatse", "cid", "pc", iatse, "crew_hourly", "hour"),
    ]
    for name, who, prod, agr, classification, unit in engage:
        w["engagement"][name] = EngagementFactory(
            person=person[who],
            production=production[prod],
            agreement=agr,
            classification=classification,
            rate_unit=unit,
        )

    # The journal: an open payable per engagement; partial payments on all but cat's.
    actor = UserFactory(username="journal-actor")
    for eng_name, who, *_rest in engage:
        eng = w["engagement"][eng_name]
        payable = payable_create(
            actor=actor,
            production=eng.production,
            person=eng.person,
            engagement=eng,
            rule="matrix",
            description=f"Day rate for {who}",
            amount=Decimal("1000.00"),
            currency="USD",
            period_from=date(2025, 6, 2),
            period_to=date(2025, 6, 6),
            due_date=date(2025, 6, 20),
            source_type="matrix",
            source_id=who,
        )
        w["payable"][f"pay_{who}"] = payable
        w["transaction"][f"ob_{who}"] = JournalTransaction.objects.get(
            source_type="matrix", source_id=who
        )
        if who == "cat":
            continue
        result = payment_confirm(
            actor=actor,
            client="user:matrix",
            idempotency_key=f"matrix-{who}",
            payable=payable,
            amount=Decimal("100.00"),
            paid_at=datetime(2025, 6, 21, 12, 0, tzinfo=UTC),
            payroll_reference=f"REF-{who}",
            render=lambda payment: {"id": payment.pk},
        )
        payment = Payment.objects.get(pk=result.body["id"])
        w["payment"][f"pm_{who}"] = payment
        w["transaction"][f"paid_{who}"] = payment.transaction

    w.users = {
        "studio_a": studio_staff(studio["A"], "staff-a"),
        "studio_b": studio_staff(studio["B"], "staff-b"),
        "sag": guild_staff("sag-aftra", "staff-sag"),
        "wga": guild_staff("wga", "staff-wga"),
    }
    key_a, w.raw_keys["payroll_a"] = payroll_key(studio["A"], name="payroll-a")
    key_b, w.raw_keys["payroll_b"] = payroll_key(studio["B"], name="payroll-b")
    # Created after the payables, so that no webhook is sent while building the world.
    w["webhook-endpoint"].update(
        wh_a=WebhookEndpoint.objects.create(payroll_key=key_a, url="https://a.example/hook"),
        wh_b=WebhookEndpoint.objects.create(payroll_key=key_b, url="https://b.example/hook"),
    )
    return w


WRITTEN_MODELS = [
    Studio,
    Person,
    Membership,
    Production,
    ProductionAgreement,
    Engagement,
    Payable,
    Payment,
    JournalTransaction,
    Posting,
    IdempotencyRecord,
    WebhookEndpoint,
    WebhookDelivery,
]


def snapshot():
    """Row counts of every table a request could write, and of the registry's history."""
    counts = {m.__name__: m.objects.count() for m in WRITTEN_MODELS}
    counts.update(
        {
            f"history.{m.__name__}": m.history.count()
            for m in WRITTEN_MODELS
            if hasattr(m, "history")
        }
    )
    counts["webhook-endpoint-state"] = list(
        WebhookEndpoint.objects.order_by("pk").values_list("url", "is_active")
    )
    return counts


def assert_unauthenticated(response):
    body = assert_error(response, 401, "not_authenticated")
    assert body["fields"] == {}
    assert response["WWW-Authenticate"] == "Api-Key"


def csv_ids(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_text(response))))
    return {row[0] for row in rows[1:]}


def call(client, method, url, body=None, **headers):
    return getattr(client, method)(url, body, format="json", **headers)


# --- the matrix is complete ----------------------------------------------------------------


def test_matrix_declares_every_route():
    registry = {basename for _prefix, _viewset, basename in ledger_urls.router.registry}
    assert registry == set(SCOPED) | set(REFERENCE), (
        "a viewset was registered or removed; add it to SCOPED or REFERENCE, VISIBLE and MATRIX"
    )
    assert_matrix_declares_every_route(ledger_urls, MATRIX, what="access matrix")


def test_every_role_has_objects_in_and_out_of_scope(world):
    for role in AUTHENTICATED:
        for kind in SCOPED:
            assert world.hidden(role, kind), (role, kind)
            if (role, kind) in EMPTY_BY_DESIGN:
                assert not VISIBLE[role][kind], (role, kind)
            else:
                assert VISIBLE[role][kind], (role, kind)
    for kind in SCOPED:
        assert any(VISIBLE[role][kind] for role in AUTHENTICATED), kind
        assert set().union(*(VISIBLE[r][kind] for r in ROLES)) <= set(world[kind]), kind


# --- reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("reference"), ids="-".join)
def test_reference_data_is_global(world, role, route):
    name, _method = route
    model = REFERENCE[kind_of(name)]
    client = world.client(role)
    if name.endswith("-list"):
        response = client.get(reverse(name))
        if role == "anonymous":
            return assert_unauthenticated(response)
        assert response.status_code == 200
        codes = {row["code"] for row in response.json()["results"]}
        assert codes == set(model.objects.values_list("code", flat=True))
        assert len(codes) >= 3
    else:
        for obj in model.objects.all():
            response = client.get(reverse(name, args=[obj.code]))
            if role == "anonymous":
                assert_unauthenticated(response)
                continue
            assert response.status_code == 200
            assert response.json()["code"] == obj.code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("list") + routes("export"), ids="-".join)
def test_list_shows_exactly_the_scope(world, role, route):
    name, _method = route
    kind = kind_of(name)
    response = world.client(role).get(reverse(name))
    if role == "anonymous":
        return assert_unauthenticated(response)
    ids = csv_ids(response) if MATRIX[route] == "export" else list_ids(response)
    seen = {world.name_of(kind, pk) for pk in ids}
    assert seen == VISIBLE[role][kind]
    for hidden in world.hidden(role, kind):
        assert hidden not in seen


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("detail"), ids="-".join)
def test_detail_is_404_outside_the_scope(world, role, route):
    name, _method = route
    kind = kind_of(name)
    client = world.client(role)
    missing = client.get(reverse(name, args=[missing_key(kind)]))
    if role == "anonymous":
        assert_unauthenticated(missing)
    else:
        assert_error(missing, 404, "not_found")
    for obj_name, obj in world[kind].items():
        response = client.get(reverse(name, args=[obj.pk]))
        if role == "anonymous":
            assert_unauthenticated(response)
        elif obj_name in VISIBLE[role][kind]:
            assert response.status_code == 200, (obj_name, response.content)
            assert str(response.json()["id"]) == str(obj.pk)
        else:
            assert_error(response, 404, "not_found")
            assert response.json() == missing.json(), obj_name


# --- writes on objects outside the scope ---------------------------------------------------

WRITE_BODIES = {
    ("studio-detail", "put"): {"name": "Hijacked", "slug": "hijacked"},
    ("studio-detail", "patch"): {"name": "Hijacked"},
    ("person-detail", "put"): {"legal_name": "Hijacked"},
    ("person-detail", "patch"): {"legal_name": "Hijacked"},
    ("production-detail", "put"): {
        "studio": "alpha",
        "title": "Hijacked",
        "kind": "theatrical",
        "start_date": "2025-06-02",
    },
    ("production-detail", "patch"): {"title": "Hijacked"},
    ("production-attach", "post"): {"agreement": "wga-mba-2023"},
    ("production-detach", "post"): {"agreement": "iatse-basic-2024"},
    ("engagement-detail", "put"): {
        "agreement": "sag-tvth-2023",
        "classification": "day_performer",
        "role": "Hijacked",
        "rate": {"amount": "1.00", "unit": "day"},
        "start_date": "2025-06-02",
    },
    ("engagement-detail", "patch"): {"role": "Hijacked"},
    ("transaction-reverse", "post"): {"reason": "Hijacked"},
    ("webhook-endpoint-detail", "put"): {"url": "https://evil.example/hook", "is_active": True},
    ("webhook-endpoint-detail", "patch"): {"url": "https://evil.example/hook"},
}


def expected_write_refusal(role, kind):
    if role == "anonymous":
        return 401, "not_authenticated"
    if role in STUDIO_STAFF or (role in PAYROLL and kind in PAYROLL_WRITES):
        return 404, "not_found"
    return 403, "permission_denied"  # callers who may write nothing here


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("write"), ids="-".join)
def test_writes_outside_the_scope_answer_like_a_missing_object(world, role, route):
    name, method = route
    kind = kind_of(name)
    body = WRITE_BODIES[route]
    client = world.client(role)
    status, code = expected_write_refusal(role, kind)
    before = snapshot()

    missing = call(client, method, reverse(name, args=[missing_key(kind)]), body)
    assert_error(missing, status, code)
    for obj_name in world.hidden(role, kind):
        obj = world[kind][obj_name]
        response = call(client, method, reverse(name, args=[obj.pk]), body)
        assert_error(response, status, code)
        assert response.json() == missing.json(), obj_name
    assert snapshot() == before


def test_studio_b_patch_on_studio_a_production_is_404(world):
    pa = world["production"]["pa"]
    response = world.client("studio_b").patch(
        reverse("production-detail", args=[pa.pk]), {"title": "Taken"}, format="json"
    )
    assert_error(response, 404, "not_found")
    assert Production.objects.get(pk=pa.pk).title == "Alpha Feature"


@pytest.mark.parametrize(("role", "production"), [("sag", "pa"), ("sag", "pb"), ("wga", "pa")])
def test_guild_staff_see_but_cannot_change_a_production(world, role, production):
    obj = world["production"][production]
    client = world.client(role)
    url = reverse("production-detail", args=[obj.pk])
    assert client.get(url).status_code == 200
    before = snapshot()
    body = assert_error(
        client.patch(url, {"title": "Guild edit"}, format="json"), 403, "permission_denied"
    )
    # The caller is authenticated: the refusal must not tell it to authenticate.
    assert "credentials" not in body["message"].lower(), body
    assert_error(
        client.post(
            reverse("production-attach", args=[obj.pk]),
            {"agreement": "iatse-basic-2024"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    visible_engagement = next(
        e
        for e in obj.engagements.all()
        if world.name_of("engagement", e.pk) in VISIBLE[role]["engagement"]
    )
    assert client.get(reverse("engagement-detail", args=[visible_engagement.pk])).status_code == 200
    assert_error(
        client.patch(
            reverse("engagement-detail", args=[visible_engagement.pk]),
            {"role": "Guild edit"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    assert snapshot() == before
    assert Production.objects.get(pk=obj.pk).title == obj.title


def test_payroll_key_reads_the_registry_but_cannot_write_it(world):
    client = world.client("payroll_a")
    pa, ann = world["production"]["pa"], world["person"]["ann"]
    assert client.get(reverse("production-detail", args=[pa.pk])).status_code == 200
    before = snapshot()
    posts = [
        (
            reverse("production-list"),
            {
                "studio": "alpha",
                "title": "By payroll",
                "kind": "theatrical",
                "start_date": "2025-06-02",
            },
        ),
        (reverse("person-list"), {"legal_name": "By payroll", "registered_by": "alpha"}),
        (
            reverse("engagement-list"),
            {
                "person": ann.pk,
                "production": pa.pk,
                "agreement": "sag-tvth-2023",
                "classification": "day_performer",
                "rate": {"amount": "100.00", "unit": "day"},
                "start_date": "2025-07-01",
            },
        ),
        (reverse("production-attach", args=[pa.pk]), {"agreement": "iatse-basic-2024"}),
        (reverse("production-detach", args=[pa.pk]), {"agreement": "wga-mba-2023"}),
        (
            reverse("transaction-reverse", args=[world["transaction"]["paid_ann"].pk]),
            {"reason": "payroll may not reverse"},
        ),
    ]
    for url, body in posts:
        body = assert_error(client.post(url, body, format="json"), 403, "permission_denied")
        assert "credentials" not in body["message"].lower(), body
    assert_error(
        client.patch(reverse("production-detail", args=[pa.pk]), {"title": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert snapshot() == before


def test_studio_staff_write_their_own_objects(world):
    """The refusals above are about scope: the same calls on one's own objects succeed."""
    client = world.client("studio_a")
    pa = world["production"]["pa"]
    response = client.patch(
        reverse("production-detail", args=[pa.pk]), {"title": "Alpha Renamed"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Alpha Renamed"
    response = client.post(
        reverse("production-attach", args=[pa.pk]), {"agreement": "iatse-basic-2024"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert "iatse-basic-2024" in response.json()["agreements"]
    response = client.post(
        reverse("production-detach", args=[pa.pk]), {"agreement": "iatse-basic-2024"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert "iatse-basic-2024" not in response.json()["agreements"]
    response = client.patch(
        reverse("engagement-detail", args=[world["engagement"]["ann_sag"].pk]),
        {"role": "Lead"},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = client.patch(
        reverse("person-detail", args=[world["person"]["ava"].pk]),
        {"professional_name": "Ava A."},
        format="json",
    )
    assert response.status_code == 200, response.content
    paid = world["transaction"]["paid_ann"]
    response = client.post(
        reverse("transaction-reverse", args=[paid.pk]), {"reason": "wrong amount"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["reverses"] == str(paid.pk)
    # Studios themselves are administrator-only: visible, not changeable (403, not 404).
    response = client.patch(
        reverse("studio-detail", args=[world["studio"]["A"].pk]), {"name": "Alpha"}, format="json"
    )
    assert_error(response, 403, "permission_denied")


def test_payroll_key_manages_its_own_webhook_endpoint(world):
    wh_a = world["webhook-endpoint"]["wh_a"]
    response = world.client("payroll_a").patch(
        reverse("webhook-endpoint-detail", args=[wh_a.pk]), {"is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert WebhookEndpoint.objects.get(pk=wh_a.pk).is_active is False


# --- creates naming another tenant's objects -----------------------------------------------

# The field of each create request that names another tenant's object.
CREATE_FIELD = {
    "studio-list": None,
    "person-list": "registered_by",
    "production-list": "studio",
    "engagement-list": "production",
    "payment-list": "payable",
}


def create_body(world, name, role, target):
    """A create request naming `target` (an object of another tenant, or a nonexistent one)."""
    own_person = world["person"]["bob" if role in ("studio_b", "payroll_b") else "ann"]
    if name == "studio-list":
        return {"name": "New Studio", "slug": "new-studio"}
    if name == "person-list":
        return {"legal_name": "New Person", "registered_by": target}
    if name == "production-list":
        return {
            "studio": target,
            "title": "New Production",
            "kind": "theatrical",
            "start_date": "2025-06-02",
        }
    if name == "engagement-list":
        return {
            "person": own_person.pk,
            "production": target,
            "agreement": "sag-tvth-2023",
            "classification": "day_performer",
            "rate": {"amount": "100.00", "unit": "day"},
            "start_date": "2025-07-01",
        }
    if name == "payment-list":
        return {
            "payable": target,
            "amount": "1.00",
            "paid_at": "2025-06-22T12:00:00Z",
            "payroll_reference": f"MATRIX-{next(_refs)}",
        }
    raise AssertionError(f"no create body for {name}; add one")


def other_tenant_target(world, name, role):
    other = "A" if role in ("studio_b", "payroll_b") else "B"
    if name == "engagement-list":
        return world["production"]["pa" if other == "A" else "pb"].pk
    if name == "payment-list":
        return world["payable"]["pay_ann" if other == "A" else "pay_bob"].pk
    return world["studio"][other].slug


def expected_create_refusal(role, name):
    if role == "anonymous":
        return 401, "not_authenticated"
    if name == "studio-list":
        return 403, "permission_denied"  # administrators only
    if role in STUDIO_STAFF or (role in PAYROLL and kind_of(name) in PAYROLL_WRITES):
        return 400, "invalid"
    return 403, "permission_denied"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("create"), ids="-".join)
def test_creates_naming_another_tenant_are_refused_like_a_missing_object(world, role, route):
    name, method = route
    client = world.client(role)
    target = other_tenant_target(world, name, role)
    missing_target = NONEXISTENT_ID if isinstance(target, int) else "no-such-studio"
    status, code = expected_create_refusal(role, name)
    before = snapshot()
    response = call(
        client,
        method,
        reverse(name),
        create_body(world, name, role, target),
        HTTP_IDEMPOTENCY_KEY=f"matrix-create-{next(_refs)}",
    )
    missing = call(
        client,
        method,
        reverse(name),
        create_body(world, name, role, missing_target),
        HTTP_IDEMPOTENCY_KEY=f"matrix-create-{next(_refs)}",
    )
    assert snapshot() == before
    body = assert_error(response, status, code)
    assert_error(missing, status, code)
    if status == 400:
        assert set(body["fields"]) == {CREATE_FIELD[name]}, body
        # Refused exactly like a nonexistent reference: only the echoed value differs.
        assert response.content.decode().replace(str(target), "X") == (
            missing.content.decode().replace(str(missing_target), "X")
        )
    else:
        assert response.json() == missing.json()


def test_studio_a_cannot_engage_on_studio_b_production(world):
    client = world.client("studio_a")
    before = snapshot()
    body = create_body(world, "engagement-list", "studio_a", world["production"]["pb"].pk)
    response = client.post(reverse("engagement-list"), body, format="json")
    fields = assert_error(response, 400, "invalid")["fields"]
    assert set(fields) == {"production"}
    assert snapshot() == before
    assert not Engagement.objects.filter(start_date="2025-07-01").exists()

    # Nor engage another tenant's person on an own production.
    body = create_body(world, "engagement-list", "studio_a", world["production"]["pa"].pk)
    body["person"] = world["person"]["bob"].pk
    response = client.post(reverse("engagement-list"), body, format="json")
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"person"}
    assert snapshot() == before

    # The same request on an own production and person is written (the refusals are not vacuous).
    body = create_body(world, "engagement-list", "studio_a", world["production"]["pa"].pk)
    response = client.post(reverse("engagement-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert Engagement.objects.filter(
        pk=response.json()["id"], production=world["production"]["pa"]
    ).exists()


@pytest.mark.parametrize("role", ["studio_a", "payroll_a"])
def test_payments_on_own_payables_are_accepted(world, role):
    body = create_body(world, "payment-list", role, world["payable"]["pay_ann"].pk)
    response = world.client(role).post(
        reverse("payment-list"), body, format="json", HTTP_IDEMPOTENCY_KEY=f"own-{role}"
    )
    assert response.status_code == 201, response.content
    assert Payment.objects.filter(pk=response.json()["id"]).exists()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("owned"), ids="-".join)
def test_owned_creates_belong_to_the_caller(world, role, route):
    name, method = route
    kind = kind_of(name)
    client = world.client(role)
    before = snapshot()
    response = call(client, method, reverse(name), {"url": "https://new.example/hook"})
    if role == "anonymous":
        assert_unauthenticated(response)
    elif role not in PAYROLL:
        assert_error(response, 403, "permission_denied")
    else:
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        assert client.get(reverse(f"{kind}-detail", args=[pk])).status_code == 200
        for other in AUTHENTICATED:
            if other == role:
                continue
            other_client = world.client(other)
            assert pk not in list_ids(other_client.get(reverse(f"{kind}-list")))
            assert_error(other_client.get(reverse(f"{kind}-detail", args=[pk])), 404, "not_found")
        return
    assert snapshot() == before


# --- filters and balances do not leak existence --------------------------------------------

# (list url name, query parameter, kind of the object named, how the object is named)
FILTERS = [
    ("engagement-list", "production", "production", "pk"),
    ("engagement-list", "person", "person", "pk"),
    ("engagement-list", "studio", "studio", "slug"),
    ("engagement-list", "studio", "studio", "pk"),
    ("person-list", "production", "production", "pk"),
    ("production-list", "studio", "studio", "slug"),
    ("payable-list", "production", "production", "pk"),
    ("payable-list", "person", "person", "pk"),
    ("payable-list", "studio", "studio", "slug"),
    ("payable-list", "studio", "studio", "pk"),  # either names a studio
    ("payable-export", "production", "production", "pk"),
    ("payable-export", "studio", "studio", "slug"),
    ("payment-list", "payable", "payable", "pk"),
    ("payment-list", "person", "person", "pk"),
    ("payment-list", "production", "production", "pk"),
    ("payment-export", "production", "production", "pk"),
    ("transaction-list", "studio", "studio", "slug"),
    ("transaction-list", "studio", "studio", "pk"),
]


def related(world, role, kind, row, param_kind):
    """The objects of `param_kind` that a filter on a `kind` row should match it by."""
    if kind == "person":  # people engaged on the production, through engagements in scope
        return {
            e.production
            for n, e in world["engagement"].items()
            if e.person == row and n in VISIBLE[role]["engagement"]
        }
    if kind == "payment":
        row = row.payable
        if param_kind == "payable":
            return {row}
    if kind == "transaction":
        return {row.studio}
    return {
        "production": getattr(row, "production", None),
        "person": getattr(row, "person", None),
        "studio": getattr(row, "studio", None) or row.production.studio,
    }[param_kind]


def matches(world, role, kind, row, param_kind, obj):
    found = related(world, role, kind, row, param_kind)
    return obj in found if isinstance(found, set) else obj == found


def content_of(response):
    """A list's JSON body, or an export's CSV text."""
    assert response.status_code == 200, response.content
    if response.streaming:
        return csv_text(response)
    return response.json()


def refusal_of(response):
    """The fields of a 400 `invalid` answer: a filter naming nothing the caller can see."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid", body
    return body["fields"]


def filtered(world, role, list_name, obj):
    response = world.client(role).get(reverse(list_name), obj)
    ids = csv_ids(response) if list_name.endswith("-export") else list_ids(response)
    return {world.name_of(kind_of(list_name), pk) for pk in ids}


@pytest.mark.parametrize("role", AUTHENTICATED)
@pytest.mark.parametrize(("list_name", "param", "kind", "attr"), FILTERS)
def test_filters_on_other_tenants_objects_look_like_nonexistent_ones(
    world, role, list_name, param, kind, attr
):
    client = world.client(role)
    url = reverse(list_name)
    rows_kind = kind_of(list_name)
    missing_value = NONEXISTENT_ID if attr == "pk" else "no-such-slug"
    refused = f"No {param} {missing_value} that you can see."
    assert refusal_of(client.get(url, {param: missing_value})) == {param: [refused]}
    for obj_name in world.hidden(role, kind):
        value = getattr(world[kind][obj_name], attr)
        refusal = refusal_of(client.get(url, {param: value}))
        assert refusal == {param: [refused.replace(str(missing_value), str(value))]}, obj_name
    found_any = False
    for obj_name in VISIBLE[role][kind]:
        obj = world[kind][obj_name]
        seen = filtered(world, role, list_name, {param: getattr(obj, attr)})
        expected = {
            n
            for n in VISIBLE[role][rows_kind]
            if matches(world, role, rows_kind, world[rows_kind][n], kind, obj)
        }
        assert seen == expected, obj_name
        found_any = found_any or bool(seen)
    if (role, rows_kind) not in EMPTY_BY_DESIGN:
        assert found_any, "the filter must select something in scope, or the test is vacuous"


# The studios whose balances each role sees.
BALANCE_STUDIOS = {
    "studio_a": {"A"},
    "studio_b": {"B"},
    "sag": {"A", "B"},
    "wga": {"A"},
    "payroll_a": {"A"},
    "payroll_b": {"B"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("balances"), ids="-".join)
def test_balances_cover_only_the_scope(world, role, route):
    name, _method = route
    client = world.client(role)
    response = client.get(reverse(name))
    if role == "anonymous":
        return assert_unauthenticated(response)
    assert response.status_code == 200, response.content
    studios = {world.name_of("studio", row["studio"]) for row in response.json()}
    assert studios == BALANCE_STUDIOS[role]
    for group in ("production", "person", "engagement"):
        response = client.get(reverse(name), {"group": group})
        assert response.status_code == 200, response.content
        keys = {world.name_of(group, row[group]) for row in response.json()}
        assert keys and keys <= VISIBLE[role][group], (group, keys)

    for studio in (NONEXISTENT_ID, "no-such-slug", *world.hidden(role, "studio")):
        value = world["studio"][studio].slug if studio in world["studio"] else studio
        refusal = refusal_of(client.get(reverse(name), {"studio": value}))
        assert refusal == {"studio": ["No studio by this id or slug that you can see."]}
    found_any = False
    for param in ("studio", "production", "person", "engagement"):
        for obj_name in world.hidden(role, param):
            pk = world[param][obj_name].pk
            refusal = refusal_of(client.get(reverse(name), {param: pk}))
            if param != "studio":
                assert refusal == {param: [f"No {param} {pk} that you can see."]}, obj_name
        for obj_name in VISIBLE[role][param]:
            response = client.get(reverse(name), {param: world[param][obj_name].pk})
            found_any = found_any or bool(response.json())
    assert found_any


def test_invalid_api_key_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key not-a-real-key")
    response = client.get(reverse("production-list"))
    assert_error(response, 401, "authentication_failed")
