"""The access matrix: every role × every API endpoint × objects inside and outside its scope.

The world has three studios. Studio A's production `pa` works under SAG-AFTRA and WGA, its
production `pa_dev` under no agreement yet; studio B's `pb` works under SAG-AFTRA only; studio C's
`pc` under IATSE. So SAG-AFTRA staff see SAG work at A and B, WGA staff see only A's WGA work, and
every role has objects outside its scope for every resource (no case can pass vacuously).

`MATRIX` declares every (url name, HTTP method) the API serves; `test_matrix_declares_every_route`
fails as soon as a route is added to the router (or to ledger/urls.py) without being declared here,
and the parametrised tests below are generated from the matrix.
"""

from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from ledger import urls as ledger_urls
from ledger.models import (
    Agreement,
    Engagement,
    Guild,
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
    guild_staff,
    payroll_key,
    studio_staff,
)

pytestmark = pytest.mark.django_db

# --- the matrix ----------------------------------------------------------------------------

# Tenant-owned resources (basename → the world's objects of that kind) and global reference data.
TENANT = {
    "studio": "studios",
    "person": "people",
    "production": "productions",
    "engagement": "engagements",
}
REFERENCE = {"guild": "code", "agreement": "code"}

# Every route the API serves, and how this file checks it:
#   reference — every authenticated role reads all of it; anonymous gets 401
#   list      — exactly the role's scope; other tenants' rows are absent
#   detail    — 200 in scope, 404 (the same answer as a nonexistent id) outside it
#   write     — on another tenant's object: the same answer as on a nonexistent id (404 for
#               studio staff; 403 for callers who can write nothing; 401 anonymous), nothing written
#   create    — naming another tenant's object: refused like a nonexistent one, nothing written
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
}

ROLES = ["studio_a", "studio_b", "sag", "wga", "payroll_a", "anonymous"]
AUTHENTICATED = [r for r in ROLES if r != "anonymous"]
STUDIO_STAFF = {"studio_a": "A", "studio_b": "B"}

# What each role sees, by resource (names of the world's objects).
VISIBLE = {
    "studio_a": {
        "studio": {"A"},
        "production": {"pa", "pa_dev"},
        "person": {"ann", "abe", "ava", "cat"},
        "engagement": {"ann_sag", "abe_wga"},
    },
    "studio_b": {
        "studio": {"B"},
        "production": {"pb"},
        "person": {"cat", "bob", "bea", "sam"},
        "engagement": {"cat_sag", "bob_sag"},
    },
    "sag": {
        "studio": {"A", "B"},
        "production": {"pa", "pb"},
        "person": {"ann", "cat", "bob", "sam"},
        "engagement": {"ann_sag", "cat_sag", "bob_sag"},
    },
    "wga": {
        "studio": {"A"},
        "production": {"pa"},
        "person": {"abe"},
        "engagement": {"abe_wga"},
    },
    "payroll_a": {
        "studio": {"A"},
        "production": {"pa", "pa_dev"},
        "person": {"ann", "abe"},
        "engagement": {"ann_sag", "abe_wga"},
    },
    "anonymous": {"studio": set(), "production": set(), "person": set(), "engagement": set()},
}

NONEXISTENT_ID = 987654321


# --- the world -----------------------------------------------------------------------------


@dataclass
class World:
    studio: dict = field(default_factory=dict)
    production: dict = field(default_factory=dict)
    person: dict = field(default_factory=dict)
    engagement: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    raw_key: str = ""

    def name_of(self, kind, pk):
        return next(name for name, obj in getattr(self, kind).items() if obj.pk == pk)

    def hidden(self, role, kind):
        return sorted(set(getattr(self, kind)) - VISIBLE[role][kind])

    def client(self, role) -> APIClient:
        client = APIClient()
        if role == "payroll_a":
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {self.raw_key}")
        elif role != "anonymous":
            client.force_login(self.users[role])
        return client


@pytest.fixture
def world() -> World:
    w = World()
    sag, wga, iatse = (
        agreement("sag-tvth-2023"),
        agreement("wga-mba-2023"),
        agreement("iatse-basic-2024"),
    )
    w.studio = {
        "A": StudioFactory(name="Alpha Pictures", slug="alpha"),
        "B": StudioFactory(name="Bravo Studios", slug="bravo"),
        "C": StudioFactory(name="Charlie Films", slug="charlie"),
    }
    w.production = {
        "pa": ProductionFactory(studio=w.studio["A"], title="Alpha Feature"),
        "pa_dev": ProductionFactory(studio=w.studio["A"], title="Alpha In Development"),
        "pb": ProductionFactory(studio=w.studio["B"], title="Bravo Feature"),
        "pc": ProductionFactory(studio=w.studio["C"], title="Charlie Feature"),
    }
    ProductionAgreementFactory(production=w.production["pa"], agreement=sag)
    ProductionAgreementFactory(production=w.production["pa"], agreement=wga)
    ProductionAgreementFactory(production=w.production["pb"], agreement=sag)
    ProductionAgreementFactory(production=w.production["pc"], agreement=iatse)
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
    w.person = {
        name: PersonFactory(legal_name=f"{name.title()} Person", registered_by=w.studio[s])
        for name, s in registered.items()
    }
    MembershipFactory(person=w.person["sam"], guild=guild("sag-aftra"), member_number="SAG-1")
    w.engagement = {
        "ann_sag": EngagementFactory(
            person=w.person["ann"], production=w.production["pa"], agreement=sag
        ),
        "abe_wga": EngagementFactory(
            person=w.person["abe"],
            production=w.production["pa"],
            agreement=wga,
            classification="writer",
            rate_unit="week",
        ),
        "cat_sag": EngagementFactory(
            person=w.person["cat"], production=w.production["pb"], agreement=sag
        ),
        "bob_sag": EngagementFactory(
            person=w.person["bob"], production=w.production["pb"], agreement=sag
        ),
        "cid_iatse": EngagementFactory(
            person=w.person["cid"],
            production=w.production["pc"],
            agreement=iatse,
            classification="crew_hourly",
            rate_unit="hour",
        ),
    }
    w.users = {
        "studio_a": studio_staff(w.studio["A"], "staff-a"),
        "studio_b": studio_staff(w.studio["B"], "staff-b"),
        "sag": guild_staff("sag-aftra", "staff-sag"),
        "wga": guild_staff("wga", "staff-wga"),
    }
    _key, w.raw_key = payroll_key(w.studio["A"], name="payroll-a")
    return w


def snapshot():
    """Row counts of the registry and of its history: any write changes one of them."""
    models = [Studio, Person, Membership, Production, ProductionAgreement, Engagement]
    counts = {m.__name__: m.objects.count() for m in models}
    counts.update({f"history.{m.__name__}": m.history.count() for m in models})
    return counts


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    return body


def assert_unauthenticated(response):
    body = assert_error(response, 401, "not_authenticated")
    assert body["fields"] == {}
    assert response["WWW-Authenticate"] == "Api-Key"


def list_ids(response):
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None, "the world fits on one page"
    return {row["id"] for row in body["results"]}


def routes(name_kind):
    return sorted(route for route, kind in MATRIX.items() if kind == name_kind)


# --- the matrix is complete ----------------------------------------------------------------


def _served(patterns):
    served = set()
    for pattern in patterns:
        actions = getattr(pattern.callback, "actions", None)
        assert actions, f"{pattern.pattern} is not a router route; declare and test it here"
        for method in actions:
            if method not in ("head", "options"):
                served.add((pattern.name, method))
    return served


def test_matrix_declares_every_route():
    registry = {basename for _prefix, _viewset, basename in ledger_urls.router.registry}
    assert registry == set(TENANT) | set(REFERENCE), (
        "a viewset was registered or removed; add it to TENANT or REFERENCE and to MATRIX"
    )
    router_routes = _served(ledger_urls.router.urls)
    url_routes = _served(ledger_urls.urlpatterns)
    assert router_routes <= url_routes
    undeclared = url_routes - set(MATRIX)
    assert not undeclared, f"routes missing from the access matrix: {sorted(undeclared)}"
    stale = set(MATRIX) - url_routes
    assert not stale, f"the matrix declares routes the API does not serve: {sorted(stale)}"
    names = {p.name for p in ledger_urls.router.urls}
    assert names == {name for name, _method in MATRIX}


def test_every_role_has_objects_in_and_out_of_scope(world):
    for role in AUTHENTICATED:
        for kind in TENANT:
            assert VISIBLE[role][kind], (role, kind)
            assert world.hidden(role, kind), (role, kind)


# --- reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("reference"), ids="-".join)
def test_reference_data_is_global(world, role, route):
    name, _method = route
    basename, _, kind = name.rpartition("-")
    model = {"guild": Guild, "agreement": Agreement}[basename]
    client = world.client(role)
    if kind == "list":
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
@pytest.mark.parametrize("route", routes("list"), ids="-".join)
def test_list_shows_exactly_the_scope(world, role, route):
    name, _method = route
    kind = name.removesuffix("-list")
    response = world.client(role).get(reverse(name))
    if role == "anonymous":
        return assert_unauthenticated(response)
    seen = {world.name_of(kind, pk) for pk in list_ids(response)}
    assert seen == VISIBLE[role][kind]
    for hidden in world.hidden(role, kind):
        assert hidden not in seen


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("detail"), ids="-".join)
def test_detail_is_404_outside_the_scope(world, role, route):
    name, _method = route
    kind = name.removesuffix("-detail")
    client = world.client(role)
    missing = client.get(reverse(name, args=[NONEXISTENT_ID]))
    if role == "anonymous":
        assert_unauthenticated(missing)
    else:
        assert_error(missing, 404, "not_found")
    for obj_name, obj in getattr(world, kind).items():
        response = client.get(reverse(name, args=[obj.pk]))
        if role == "anonymous":
            assert_unauthenticated(response)
        elif obj_name in VISIBLE[role][kind]:
            assert response.status_code == 200, (obj_name, response.content)
            assert response.json()["id"] == obj.pk
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
}


def expected_write_refusal(role):
    if role == "anonymous":
        return 401, "not_authenticated"
    if role in STUDIO_STAFF:
        return 404, "not_found"
    return 403, "permission_denied"  # guild staff and payroll keys write nothing in the registry


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("write"), ids="-".join)
def test_writes_outside_the_scope_answer_like_a_missing_object(world, role, route):
    name, method = route
    kind = name.split("-")[0]
    body = WRITE_BODIES[route]
    client = world.client(role)
    status, code = expected_write_refusal(role)
    before = snapshot()

    missing = getattr(client, method)(reverse(name, args=[NONEXISTENT_ID]), body, format="json")
    assert_error(missing, status, code)
    for obj_name in world.hidden(role, kind):
        obj = getattr(world, kind)[obj_name]
        response = getattr(client, method)(reverse(name, args=[obj.pk]), body, format="json")
        assert_error(response, status, code)
        assert response.json() == missing.json(), obj_name
    assert snapshot() == before


def test_studio_b_patch_on_studio_a_production_is_404(world):
    pa = world.production["pa"]
    response = world.client("studio_b").patch(
        reverse("production-detail", args=[pa.pk]), {"title": "Taken"}, format="json"
    )
    assert_error(response, 404, "not_found")
    pa.refresh_from_db()
    assert pa.title == "Alpha Feature"


@pytest.mark.parametrize(("role", "production"), [("sag", "pa"), ("sag", "pb"), ("wga", "pa")])
def test_guild_staff_see_but_cannot_change_a_production(world, role, production):
    obj = world.production[production]
    client = world.client(role)
    url = reverse("production-detail", args=[obj.pk])
    assert client.get(url).status_code == 200
    before = snapshot()
    assert_error(
        client.patch(url, {"title": "Guild edit"}, format="json"), 403, "permission_denied"
    )
    assert_error(
        client.post(
            reverse("production-attach", args=[obj.pk]),
            {"agreement": "iatse-basic-2024"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    assert_error(
        client.patch(
            reverse("engagement-detail", args=[obj.engagements.first().pk]),
            {"role": "Guild edit"},
            format="json",
        ),
        403,
        "permission_denied",
    )
    assert snapshot() == before
    obj.refresh_from_db()
    assert obj.title != "Guild edit"


def test_payroll_key_reads_but_cannot_write(world):
    client = world.client("payroll_a")
    pa, ann = world.production["pa"], world.person["ann"]
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
    ]
    for url, body in posts:
        assert_error(client.post(url, body, format="json"), 403, "permission_denied")
    assert_error(
        client.patch(reverse("production-detail", args=[pa.pk]), {"title": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert snapshot() == before


def test_studio_staff_write_their_own_objects(world):
    """The refusals above are about scope: the same calls on one's own objects succeed."""
    client = world.client("studio_a")
    pa = world.production["pa"]
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
        reverse("engagement-detail", args=[world.engagement["ann_sag"].pk]),
        {"role": "Lead"},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = client.patch(
        reverse("person-detail", args=[world.person["ava"].pk]),
        {"professional_name": "Ava A."},
        format="json",
    )
    assert response.status_code == 200, response.content
    # Studios themselves are administrator-only: visible, not changeable (403, not 404).
    response = client.patch(
        reverse("studio-detail", args=[world.studio["A"].pk]), {"name": "Alpha"}, format="json"
    )
    assert_error(response, 403, "permission_denied")


# --- creates naming another tenant's objects -----------------------------------------------


def create_body(world, name, role, target):
    """A create request naming `target` (an object of another tenant, or a nonexistent one)."""
    own = world.person["ann"] if role != "studio_b" else world.person["bob"]
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
            "person": own.pk,
            "production": target,
            "agreement": "sag-tvth-2023",
            "classification": "day_performer",
            "rate": {"amount": "100.00", "unit": "day"},
            "start_date": "2025-07-01",
        }
    raise AssertionError(f"no create body for {name}; add one")


def other_tenant_target(world, name, role):
    other = "A" if role == "studio_b" else "B"
    if name == "engagement-list":
        return {"A": world.production["pa"], "B": world.production["pb"]}[other].pk
    return world.studio[other].slug


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("create"), ids="-".join)
def test_creates_naming_another_tenant_are_refused_like_a_missing_object(world, role, route):
    name, method = route
    client = world.client(role)
    target = other_tenant_target(world, name, role)
    missing_target = NONEXISTENT_ID if isinstance(target, int) else "no-such-studio"
    before = snapshot()
    response = getattr(client, method)(
        reverse(name), create_body(world, name, role, target), format="json"
    )
    missing = getattr(client, method)(
        reverse(name), create_body(world, name, role, missing_target), format="json"
    )
    assert snapshot() == before
    if role == "anonymous":
        assert_unauthenticated(response)
    elif role in STUDIO_STAFF and name != "studio-list":
        body = assert_error(response, 400, "invalid")
        field_name = {
            "person-list": "registered_by",
            "production-list": "studio",
            "engagement-list": "production",
        }[name]
        assert set(body["fields"]) == {field_name}, body
        # Refused exactly like a nonexistent reference: only the echoed value differs.
        assert response.content.decode().replace(
            str(target), "X"
        ) == missing.content.decode().replace(str(missing_target), "X")
        return
    else:
        assert_error(response, 403, "permission_denied")
    assert response.status_code == missing.status_code
    assert response.json() == missing.json()


def test_studio_a_cannot_engage_on_studio_b_production(world):
    client = world.client("studio_a")
    before = snapshot()
    body = create_body(world, "engagement-list", "studio_a", world.production["pb"].pk)
    response = client.post(reverse("engagement-list"), body, format="json")
    fields = assert_error(response, 400, "invalid")["fields"]
    assert set(fields) == {"production"}
    assert snapshot() == before
    assert not Engagement.objects.filter(start_date="2025-07-01").exists()

    # Nor engage another tenant's person on an own production.
    body = create_body(world, "engagement-list", "studio_a", world.production["pa"].pk)
    body["person"] = world.person["bob"].pk
    response = client.post(reverse("engagement-list"), body, format="json")
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"person"}
    assert snapshot() == before

    # The same request on an own production and person is written (the refusals are not vacuous).
    body = create_body(world, "engagement-list", "studio_a", world.production["pa"].pk)
    response = client.post(reverse("engagement-list"), body, format="json")
    assert response.status_code == 201, response.content
    assert Engagement.objects.filter(
        pk=response.json()["id"], production=world.production["pa"]
    ).exists()


# --- filters do not leak existence ---------------------------------------------------------

# (list url name, query parameter, kind of the object named, how the object is named)
FILTERS = [
    ("engagement-list", "production", "production", "pk"),
    ("engagement-list", "person", "person", "pk"),
    ("engagement-list", "studio", "studio", "slug"),
    ("person-list", "production", "production", "pk"),
    ("production-list", "studio", "studio", "slug"),
]


def expected_filtered(world, role, list_name, param_kind, obj):
    """What filtering by a (visible) object should return: the visible rows related to it."""
    kind = list_name.removesuffix("-list")
    visible_eng = [world.engagement[n] for n in VISIBLE[role]["engagement"]]
    names = set()
    for name in VISIBLE[role][kind]:
        row = getattr(world, kind)[name]
        if kind == "engagement":
            related = {
                "production": row.production,
                "person": row.person,
                "studio": row.production.studio,
            }
            hit = related[param_kind] == obj
        elif kind == "person":  # people engaged on the production, through engagements in scope
            hit = any(e.person == row and e.production == obj for e in visible_eng)
        else:  # productions of the studio
            hit = row.studio == obj
        if hit:
            names.add(name)
    return names


@pytest.mark.parametrize("role", AUTHENTICATED)
@pytest.mark.parametrize(("list_name", "param", "kind", "attr"), FILTERS)
def test_filters_on_other_tenants_objects_look_like_nonexistent_ones(
    world, role, list_name, param, kind, attr
):
    client = world.client(role)
    url = reverse(list_name)
    missing_value = NONEXISTENT_ID if attr == "pk" else "no-such-slug"
    missing = client.get(url, {param: missing_value})
    assert missing.status_code == 200
    assert missing.json() == {"next": None, "previous": None, "results": []}
    for obj_name in world.hidden(role, kind):
        obj = getattr(world, kind)[obj_name]
        response = client.get(url, {param: getattr(obj, attr)})
        assert response.status_code == 200
        assert response.json() == missing.json(), (obj_name, response.json())
    rows_kind = list_name.removesuffix("-list")
    found_any = False
    for obj_name in VISIBLE[role][kind]:
        obj = getattr(world, kind)[obj_name]
        response = client.get(url, {param: getattr(obj, attr)})
        seen = {world.name_of(rows_kind, pk) for pk in list_ids(response)}
        assert seen == expected_filtered(world, role, list_name, kind, obj), obj_name
        found_any = found_any or bool(seen)
    assert found_any, "the filter must select something in scope, or the test is vacuous"


def test_invalid_api_key_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key not-a-real-key")
    response = client.get(reverse("production-list"))
    assert_error(response, 401, "authentication_failed")
