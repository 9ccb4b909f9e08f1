"""Tenancy of the consent records: every role × every consent route × records inside and outside
its scope.

The world: studio A's production `pa` works under SAG-AFTRA and WGA, studio B's `pb` under
SAG-AFTRA only. Each studio has consents, AI uses, union notices and WGA disclosures; A also has
an IATSE notice and the WGA records of its writer Abe. So studio staff see their own studio's
records, SAG-AFTRA staff the SAG-AFTRA records of both studios (never the WGA or IATSE ones),
WGA staff only A's WGA records, payroll keys nothing (403), and anonymous callers are told to
authenticate (401), as everywhere in the API.

`MATRIX` declares every (url name, HTTP method) consent/urls.py serves;
`test_matrix_declares_every_route` fails as soon as a route is added without being declared here.
"""

import itertools
from functools import partial

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from consent import urls as consent_urls
from consent.models import AiUse, Consent, StrikePeriod, UnionNotice, WgaDisclosure
from consent.services import (
    ai_use_record,
    strike_period_record,
    union_notice_record,
    wga_disclosure_record,
)
from ledger.access import SYSTEM_SCOPE, Scope
from tests.consent.helpers import (
    NONEXISTENT_ID,
    at,
    check_body,
    consent_body,
    counts,
    media_files,
    use_body,
)
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    grant_consent,
    guild,
    guild_staff,
    payroll_key,
    studio_staff,
)
from tests.helpers import (
    assert_error,
    assert_matrix_declares_every_route,
    assert_refused_role,
    built_once,
    kind_of,
    list_ids,
    role_client,
    routes_of,
)

pytestmark = pytest.mark.django_db

# --- the matrix -------------------------------------------------------------------------------

# Every route consent/urls.py serves, and how this file checks it:
#   list    — exactly the role's scope; other tenants' rows are absent
#   detail  — 200 in scope, 404 (the same answer as a nonexistent id) outside it
#   event   — a consent event: studio staff get 404 on another tenant's consent, like a missing
#             one; callers who may write nothing get 403; nothing written
#   create  — studio staff naming another tenant's production or person: 400 naming the field,
#             like a nonexistent one; others 403; nothing written
#   public  — strike periods: every staff role reads all of them
#   strike  — strike writes: only the guild's own staff
#   check   — the consent check: any staff caller, answering only about people in scope
#   void    — voiding an AI use: like an event (404 outside a studio's scope, 403 to who may
#             write nothing); nothing written
#   draft   — checking a draft consent: refused as its create is; nothing written
#             (tests/consent/test_consent_2026_api.py)
#   request — consent requests, read and moved on per role in
#             tests/consent/test_consent_requests_api.py
MATRIX = {
    ("consent-check", "post"): "check",
    ("consent-check-batch", "post"): "check",
    ("consent-list", "get"): "list",
    ("consent-list", "post"): "create",
    ("consent-draft-check", "post"): "draft",
    ("consent-detail", "get"): "detail",
    ("consent-evidence", "get"): "detail",
    ("consent-revoke", "post"): "event",
    ("consent-suspend", "post"): "event",
    ("consent-resume", "post"): "event",
    ("ai-use-list", "get"): "list",
    ("ai-use-list", "post"): "create",
    ("ai-use-detail", "get"): "detail",
    ("ai-use-void", "post"): "void",
    ("union-notice-list", "get"): "list",
    ("union-notice-list", "post"): "create",
    ("union-notice-detail", "get"): "detail",
    ("wga-disclosure-list", "get"): "list",
    ("wga-disclosure-list", "post"): "create",
    ("wga-disclosure-detail", "get"): "detail",
    ("strike-period-list", "get"): "public",
    ("strike-period-list", "post"): "strike",
    ("strike-period-detail", "get"): "public",
    ("strike-period-detail", "put"): "strike",
    ("strike-period-detail", "patch"): "strike",
    ("consent-request-list", "get"): "request",
    ("consent-request-list", "post"): "request",
    ("consent-request-detail", "get"): "request",
    ("consent-request-send", "post"): "request",
    ("consent-request-remind", "post"): "request",
    ("consent-request-withdraw", "post"): "request",
}
routes = partial(routes_of, MATRIX)  # the routes of one kind, for parametrize

SCOPED = ["consent", "ai-use", "union-notice", "wga-disclosure"]
ROLES = ["studio_a", "studio_b", "sag", "wga", "payroll_a", "anonymous"]
AUTHENTICATED = [r for r in ROLES if r != "anonymous"]
STUDIO_STAFF = {"studio_a", "studio_b"}
GUILD_STAFF = {"sag", "wga"}

VISIBLE = {
    "studio_a": {
        "consent": {"c_ann", "c_abe"},
        "ai-use": {"u_ann", "u_abe"},
        "union-notice": {"n_pa", "n_pa_iatse"},
        "wga-disclosure": {"d_abe"},
    },
    "studio_b": {
        "consent": {"c_bob"},
        "ai-use": {"u_bob"},
        "union-notice": {"n_pb"},
        "wga-disclosure": {"d_bob"},
    },
    "sag": {
        "consent": {"c_ann", "c_bob"},
        "ai-use": {"u_ann", "u_bob"},
        "union-notice": {"n_pa", "n_pb"},
        "wga-disclosure": set(),  # disclosures are WGA records
    },
    "wga": {
        "consent": {"c_abe"},
        "ai-use": {"u_abe"},
        "union-notice": set(),  # notices go to SAG-AFTRA and IATSE
        "wga-disclosure": {"d_abe"},
    },
}
PEOPLE_IN_SCOPE = {
    "studio_a": {"ann", "abe"},
    "studio_b": {"bob"},
    "sag": {"ann", "bob"},
    "wga": {"abe"},
}

_refs = itertools.count(1)


# --- the world --------------------------------------------------------------------------------


class World:
    def __init__(self):
        self.objects = {kind: {} for kind in [*SCOPED, "strike-period"]}
        self.studios, self.productions, self.people, self.users, self.raw_keys = {}, {}, {}, {}, {}

    def __getitem__(self, kind):
        return self.objects[kind]

    def name_of(self, kind, pk):
        return next(n for n, obj in self[kind].items() if obj.pk == pk)

    def hidden(self, role, kind):
        return sorted(set(self[kind]) - VISIBLE[role][kind])

    def client(self, role) -> APIClient:
        return role_client(role, self.users, self.raw_keys)


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("consent-access-media")
    with override_settings(MEDIA_ROOT=str(root)):
        yield root


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker, media_root):
    """Built once for the module inside a transaction rolled back at its end; each test runs in
    its own savepoint of it, so no test's writes reach another."""
    with built_once(django_db_blocker, build_world) as world:
        yield world


@pytest.fixture
def world(shared_world, media_root) -> World:
    return shared_world


def build_world() -> World:
    w = World()
    sag, wga = agreement("sag-tvth-2023"), agreement("wga-mba-2023")
    a = w.studios["A"] = StudioFactory(name="Alpha Pictures", slug="alpha")
    b = w.studios["B"] = StudioFactory(name="Bravo Studios", slug="bravo")
    pa = w.productions["pa"] = ProductionFactory(studio=a, title="Alpha Feature")
    pb = w.productions["pb"] = ProductionFactory(studio=b, title="Bravo Feature")
    ProductionAgreementFactory(production=pa, agreement=sag)
    ProductionAgreementFactory(production=pa, agreement=wga)
    ProductionAgreementFactory(production=pb, agreement=sag)
    for name, studio in [("ann", a), ("abe", a), ("bob", b)]:
        w.people[name] = PersonFactory(legal_name=f"{name.title()} Person", registered_by=studio)
    ann = EngagementFactory(person=w.people["ann"], production=pa, agreement=sag)
    abe = EngagementFactory(
        person=w.people["abe"],
        production=pa,
        agreement=wga,
        classification="writer",
        rate_unit="week",
    )
    bob = EngagementFactory(person=w.people["bob"], production=pb, agreement=sag)

    recorder = UserFactory(username="consent-recorder")
    w["consent"].update(
        c_ann=grant_consent(ann, actor=recorder),
        c_abe=grant_consent(abe, actor=recorder, kind="writer_ai_use"),
        c_bob=grant_consent(bob, actor=recorder),
    )
    everyone = Scope(superuser=True)
    for name, engagement, kind in [
        ("u_ann", ann, "replica_creation"),
        ("u_abe", abe, "writer_ai_use"),
        ("u_bob", bob, "replica_creation"),
    ]:
        w["ai-use"][name] = ai_use_record(
            actor=recorder,
            scope=everyone,
            production=engagement.production,
            person=engagement.person,
            kind=kind,
            starts_at=at(2025, 6, 10, 9),
            description=f"Use {name}",
        )
    for name, production, code, kind in [
        ("n_pa", pa, "sag-aftra", "synthetic_performer"),
        ("n_pb", pb, "sag-aftra", "synthetic_performer"),
        ("n_pa_iatse", pa, "iatse", "ai_impact"),
    ]:
        w["union-notice"][name] = union_notice_record(
            actor=recorder,
            scope=SYSTEM_SCOPE,
            production=production,
            guild=guild(code),
            kind=kind,
            given_at=at(2025, 6, 9, 9),
            description=f"Notice {name}",
        )
    for name, production, writer in [("d_abe", pa, "abe"), ("d_bob", pb, "bob")]:
        w["wga-disclosure"][name] = wga_disclosure_record(
            actor=recorder,
            scope=SYSTEM_SCOPE,
            production=production,
            writer=w.people[writer],
            material=f"AI material for {writer}",
            handed_over_on=at(2025, 6, 10).date(),
            disclosed_at=at(2025, 6, 10, 8),
        )
    for name, code in [("s_sag", "sag-aftra"), ("s_wga", "wga")]:
        w["strike-period"][name] = strike_period_record(
            actor=recorder,
            scope=SYSTEM_SCOPE,
            guild=guild(code),
            starts_on=at(2026, 8, 1).date(),
        )

    w.users = {
        "studio_a": studio_staff(a, "staff-a"),
        "studio_b": studio_staff(b, "staff-b"),
        "sag": guild_staff("sag-aftra", "staff-sag"),
        "wga": guild_staff("wga", "staff-wga"),
    }
    _key, w.raw_keys["payroll_a"] = payroll_key(a, name="payroll-a")
    # The world is what the tests think it is.
    assert [u.status for u in w["ai-use"].values()] == ["allowed", "allowed", "allowed"]
    return w


# --- the matrix is complete -------------------------------------------------------------------


def test_matrix_declares_every_route():
    registry = {basename for _prefix, _viewset, basename in consent_urls.router.registry}
    assert registry == {*SCOPED, "strike-period", "consent-request"}, (
        "a viewset was registered or removed; add it to SCOPED, VISIBLE and MATRIX"
    )
    assert_matrix_declares_every_route(consent_urls, MATRIX, what="consent access matrix")


def test_every_role_has_records_in_and_out_of_scope(world):
    for role in VISIBLE:
        for kind in SCOPED:
            assert world.hidden(role, kind), (role, kind)
            assert VISIBLE[role][kind] <= set(world[kind]), (role, kind)
    for kind in SCOPED:
        assert set().union(*(VISIBLE[r][kind] for r in VISIBLE)) == set(world[kind])


# --- reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("list"), ids="-".join)
def test_list_shows_exactly_the_scope(world, role, route):
    name, _method = route
    kind = kind_of(name)
    response = world.client(role).get(reverse(name))
    if role not in VISIBLE:
        assert_refused_role(response, role)
        return
    seen = {world.name_of(kind, pk) for pk in list_ids(response)}
    assert seen == VISIBLE[role][kind]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("detail"), ids="-".join)
def test_detail_is_404_outside_the_scope_like_a_missing_id(world, role, route):
    name, _method = route
    kind = kind_of(name)
    client = world.client(role)
    missing = client.get(reverse(name, args=[NONEXISTENT_ID]))
    if role not in VISIBLE:
        assert_refused_role(missing, role)
        for obj in world[kind].values():
            assert_refused_role(client.get(reverse(name, args=[obj.pk])), role)
        return
    assert_error(missing, 404, "not_found")
    for obj_name, obj in world[kind].items():
        response = client.get(reverse(name, args=[obj.pk]))
        if obj_name in VISIBLE[role][kind]:
            assert response.status_code == 200, (obj_name, response.content)
            if name == "consent-evidence":
                assert response["X-Evidence-SHA256"] == obj.evidence_sha256
            else:
                assert response.json()["id"] == obj.pk
        else:
            assert_error(response, 404, "not_found")
            assert response.json() == missing.json(), obj_name


# (list url name, query parameter, what it names)
FILTERS = [
    ("consent-list", "person"),
    ("consent-list", "production"),
    ("ai-use-list", "person"),
    ("ai-use-list", "production"),
    ("ai-use-list", "consent"),
    ("union-notice-list", "production"),
    ("wga-disclosure-list", "production"),
    ("wga-disclosure-list", "writer"),
]


def _filter_value(world, param, row_kind, obj_name):
    obj = world[row_kind][obj_name]
    if param == "consent":
        return obj.consent_id
    return getattr(obj, f"{'writer' if param == 'writer' else param}_id")


@pytest.mark.parametrize("role", list(VISIBLE))
@pytest.mark.parametrize(("list_name", "param"), FILTERS)
def test_filters_on_other_tenants_records_look_like_nonexistent_ones(world, role, list_name, param):
    client = world.client(role)
    url = reverse(list_name)
    row_kind = kind_of(list_name)
    empty = {"next": None, "previous": None, "results": []}
    # Naming nothing the caller can see is refused, not an empty page.
    refused = assert_error(client.get(url, {param: NONEXISTENT_ID}), 400, "invalid")["fields"]
    assert refused == {param: [f"No {param} {NONEXISTENT_ID} that you can see."]}
    for obj_name in world.hidden(role, row_kind):
        value = _filter_value(world, param, row_kind, obj_name)
        response = client.get(url, {param: value})
        if value is not None and any(
            _filter_value(world, param, row_kind, n) == value for n in VISIBLE[role][row_kind]
        ):
            continue  # the same person or production also has a record in scope
        if response.status_code == 400:  # answered as the unknown id is
            assert response.json()["fields"] == {
                param: [f"No {param} {value} that you can see."]
            }, obj_name
        else:  # the person or production is in scope; this record of theirs is not
            assert response.json() == empty, (obj_name, response.json())
    for obj_name in VISIBLE[role][row_kind]:
        value = _filter_value(world, param, row_kind, obj_name)
        seen = {world.name_of(row_kind, pk) for pk in list_ids(client.get(url, {param: value}))}
        expected = {
            n for n in VISIBLE[role][row_kind] if _filter_value(world, param, row_kind, n) == value
        }
        assert obj_name in seen
        assert seen == expected, (obj_name, seen)


# --- consent events on records outside the scope ----------------------------------------------


def expected_event_refusal(role):
    if role == "anonymous":
        return 401, "not_authenticated"
    if role in STUDIO_STAFF:
        return 404, "not_found"
    return 403, "permission_denied"  # callers who may write nothing here


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("event"), ids="-".join)
def test_events_outside_the_scope_answer_like_a_missing_consent(world, role, route, media_root):
    name, _method = route
    client = world.client(role)
    status, code = expected_event_refusal(role)
    body = {"reason": "Hijacked", "at": "2025-06-20T00:00:00Z"}
    before = counts()
    missing = client.post(reverse(name, args=[NONEXISTENT_ID]), body, format="json")
    assert_error(missing, status, code)
    hidden = world.hidden(role, "consent") if role in VISIBLE else list(world["consent"])
    for obj_name in hidden:
        response = client.post(
            reverse(name, args=[world["consent"][obj_name].pk]), body, format="json"
        )
        assert_error(response, status, code)
        assert response.json() == missing.json(), obj_name
    assert counts() == before


@pytest.mark.parametrize("role", ["sag", "wga", "payroll_a"])
@pytest.mark.parametrize("route", routes("event"), ids="-".join)
def test_callers_who_see_a_consent_cannot_change_it(world, role, route):
    name, _method = route
    client = world.client(role)
    before = counts()
    for obj in world["consent"].values():
        response = client.post(
            reverse(name, args=[obj.pk]),
            {"reason": "Guild edit", "at": "2025-06-20T00:00:00Z"},
            format="json",
        )
        body = assert_error(response, 403, "permission_denied")
        assert "credentials" not in body["message"].lower(), body
    assert counts() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("void"), ids="-".join)
def test_voids_outside_the_scope_answer_like_a_missing_use(world, role, route):
    name, _method = route
    client = world.client(role)
    status, code = expected_event_refusal(role)
    body = {"reason": "Hijacked"}
    before = counts()
    missing = client.post(reverse(name, args=[NONEXISTENT_ID]), body, format="json")
    assert_error(missing, status, code)
    hidden = world.hidden(role, "ai-use") if role in VISIBLE else list(world["ai-use"])
    for obj_name in hidden:
        response = client.post(
            reverse(name, args=[world["ai-use"][obj_name].pk]), body, format="json"
        )
        assert_error(response, status, code)
        assert response.json() == missing.json(), obj_name
    if role in ("sag", "wga", "payroll_a"):  # who sees a use but may write nothing
        for obj in world["ai-use"].values():
            response = client.post(reverse(name, args=[obj.pk]), body, format="json")
            assert_error(response, 403, "permission_denied")
    assert counts() == before


def test_studio_b_revoking_studio_a_consent_is_404(world):
    c_ann = world["consent"]["c_ann"]
    response = world.client("studio_b").post(
        reverse("consent-revoke", args=[c_ann.pk]), {"reason": "Taken"}, format="json"
    )
    assert_error(response, 404, "not_found")
    assert not c_ann.events.exists()
    own = world.client("studio_a").post(
        reverse("consent-revoke", args=[c_ann.pk]), {"reason": "Withdrawn"}, format="json"
    )
    assert own.status_code == 200, own.content
    assert own.json()["status"] == "revoked"


# --- creates ----------------------------------------------------------------------------------


def create_request(world, name, role, *, production, person):
    """(body, format) of a create naming `production` and `person` (pks)."""
    if name == "consent-list":
        return consent_body(person, production), "multipart"
    if name == "ai-use-list":
        return use_body(person, production), "json"
    if name == "union-notice-list":
        return {
            "production": production,
            "guild": "sag-aftra",
            "kind": "synthetic_performer",
            "given_at": "2025-06-09T09:00:00Z",
            "description": "Crowd",
        }, "json"
    if name == "wga-disclosure-list":
        return {
            "production": production,
            "writer": person,
            "material": "AI outline",
            "handed_over_on": "2025-06-10",
            "disclosed_at": "2025-06-10T08:00:00Z",
        }, "json"
    raise AssertionError(f"no create body for {name}; add one")


# The field of each create that names a person (union notices name none).
PERSON_FIELD = {
    "consent-list": "person",
    "ai-use-list": "person",
    "union-notice-list": None,
    "wga-disclosure-list": "writer",
}
OWN = {"studio_a": ("pa", "ann"), "studio_b": ("pb", "bob")}
OTHER = {"studio_a": ("pb", "bob"), "studio_b": ("pa", "ann")}


def post_create(world, role, name, production, person):
    body, fmt = create_request(world, name, role, production=production, person=person)
    return world.client(role).post(reverse(name), body, format=fmt)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", routes("create"), ids="-".join)
def test_creates_on_another_tenants_production_are_refused_like_a_missing_one(
    world, role, route, media_root
):
    name, _method = route
    before, files = counts(), media_files(media_root)
    own_production, own_person = OWN.get(role, ("pa", "ann"))
    other_production, _ = OTHER.get(role, ("pb", "bob"))
    person = world.people[own_person].pk
    response = post_create(world, role, name, world.productions[other_production].pk, person)
    missing = post_create(world, role, name, NONEXISTENT_ID, person)
    assert counts() == before
    assert media_files(media_root) == files
    if role not in STUDIO_STAFF:
        assert_refused_role(response, role)
        assert_refused_role(missing, role)
        assert response.json() == missing.json()
        return
    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"production"}, body
    assert_error(missing, 400, "invalid")
    target = str(world.productions[other_production].pk)
    assert response.content.decode().replace(target, "X") == missing.content.decode().replace(
        str(NONEXISTENT_ID), "X"
    )


@pytest.mark.parametrize("role", sorted(STUDIO_STAFF))
@pytest.mark.parametrize("name", [n for n, field in PERSON_FIELD.items() if field], ids=lambda n: n)
def test_creates_for_a_person_outside_scope_are_refused_like_a_missing_one(
    world, role, name, media_root
):
    own_production, _ = OWN[role]
    _, other_person = OTHER[role]
    production = world.productions[own_production].pk
    before, files = counts(), media_files(media_root)
    response = post_create(world, role, name, production, world.people[other_person].pk)
    missing = post_create(world, role, name, production, NONEXISTENT_ID)
    assert counts() == before
    assert media_files(media_root) == files
    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {PERSON_FIELD[name]}, body
    assert_error(missing, 400, "invalid")
    target = str(world.people[other_person].pk)
    assert response.content.decode().replace(target, "X") == missing.content.decode().replace(
        str(NONEXISTENT_ID), "X"
    )


@pytest.mark.parametrize("role", sorted(STUDIO_STAFF))
@pytest.mark.parametrize("route", routes("create"), ids="-".join)
def test_creates_on_own_records_are_written_and_stay_in_the_tenant(world, role, route):
    """The refusals above are about scope: the same requests on one's own records succeed, and
    the other studio cannot see what was written."""
    name, _method = route
    kind = kind_of(name)
    own_production, own_person = OWN[role]
    response = post_create(
        world, role, name, world.productions[own_production].pk, world.people[own_person].pk
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    client = world.client(role)
    assert client.get(reverse(f"{kind}-detail", args=[pk])).status_code == 200
    other = "studio_b" if role == "studio_a" else "studio_a"
    other_client = world.client(other)
    assert pk not in list_ids(other_client.get(reverse(f"{kind}-list")))
    assert_error(other_client.get(reverse(f"{kind}-detail", args=[pk])), 404, "not_found")


def test_studio_staff_cannot_supersede_another_studios_consent(world, media_root):
    """`supersedes` naming another tenant's consent: refused like a missing one."""
    c_bob = world["consent"]["c_bob"]
    before, files = counts(), media_files(media_root)
    client = world.client("studio_a")
    ann, pa = world.people["ann"], world.productions["pa"]
    response = client.post(
        reverse("consent-list"), consent_body(ann, pa, supersedes=c_bob.pk), format="multipart"
    )
    missing = client.post(
        reverse("consent-list"),
        consent_body(ann, pa, supersedes=NONEXISTENT_ID),
        format="multipart",
    )
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"supersedes"}
    assert_error(missing, 400, "invalid")
    answer = response.content.decode().replace(str(c_bob.pk), "X")
    assert answer == missing.content.decode().replace(str(NONEXISTENT_ID), "X")
    assert counts() == before
    assert media_files(media_root) == files
    assert not Consent.objects.filter(supersedes=c_bob).exists()


# --- strike periods ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_strike_periods_are_read_by_every_staff_caller(world, role):
    client = world.client(role)
    response = client.get(reverse("strike-period-list"))
    if role not in VISIBLE:
        assert_refused_role(response, role)
        for strike in world["strike-period"].values():
            detail = client.get(reverse("strike-period-detail", args=[strike.pk]))
            assert_refused_role(detail, role)
        return
    assert {world.name_of("strike-period", pk) for pk in list_ids(response)} == {"s_sag", "s_wga"}
    for strike in world["strike-period"].values():
        assert client.get(reverse("strike-period-detail", args=[strike.pk])).status_code == 200
    missing = client.get(reverse("strike-period-detail", args=[NONEXISTENT_ID]))
    assert_error(missing, 404, "not_found")


STRIKE_BODY = {"guild": "sag-aftra", "starts_on": "2026-08-01", "ends_on": "2026-09-30"}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_guilds_own_staff_write_its_strikes(world, role):
    client = world.client(role)
    s_sag = world["strike-period"]["s_sag"]
    before = counts()
    created = client.post(reverse("strike-period-list"), STRIKE_BODY, format="json")
    put = client.put(reverse("strike-period-detail", args=[s_sag.pk]), STRIKE_BODY, format="json")
    if role == "sag":
        assert created.status_code == 201, created.content
        assert put.status_code == 200, put.content
        assert str(StrikePeriod.objects.get(pk=s_sag.pk).ends_on) == "2026-09-30"
        return
    assert counts() == before
    assert StrikePeriod.objects.get(pk=s_sag.pk).ends_on is None
    if role == "anonymous":
        assert_refused_role(created, role)
        assert_refused_role(put, role)
        return
    assert_error(created, 403, "permission_denied")
    assert_error(put, 403, "permission_denied")


@pytest.mark.parametrize("role", ["studio_a", "payroll_a", "anonymous"])
def test_strike_patch_is_refused_to_non_guild_callers(world, role):
    """PATCH by callers refused at the permission stage."""
    s_sag = world["strike-period"]["s_sag"]
    before = counts()
    response = world.client(role).patch(
        reverse("strike-period-detail", args=[s_sag.pk]), {"description": "x"}, format="json"
    )
    assert counts() == before
    if role == "anonymous":
        assert_refused_role(response, role)
    else:
        assert_error(response, 403, "permission_denied")


@pytest.mark.parametrize("role", ["wga"])
def test_strike_patch_by_another_guilds_staff_is_403(world, role):
    s_sag = world["strike-period"]["s_sag"]
    before = counts()
    for body in ({"description": "Renamed by WGA"}, {"ends_on": "2026-09-30"}):
        response = world.client(role).patch(
            reverse("strike-period-detail", args=[s_sag.pk]), body, format="json"
        )
        assert_error(response, 403, "permission_denied")
    assert counts() == before
    assert StrikePeriod.objects.get(pk=s_sag.pk).ends_on is None


# --- the consent check ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_check_answers_only_about_people_in_scope(world, role):
    client = world.client(role)
    before = counts()
    for person_name, person in world.people.items():
        production = world.productions["pb" if person_name == "bob" else "pa"]
        kind = "writer_ai_use" if person_name == "abe" else "replica_creation"
        body = check_body(person, production, use_kind=kind)
        single = client.post(reverse("consent-check"), body, format="json")
        batch = client.post(reverse("consent-check-batch"), {"checks": [body]}, format="json")
        if role not in VISIBLE:
            assert_refused_role(single, role)
            assert_refused_role(batch, role)
            continue
        assert batch.status_code == 200, batch.content
        (result,) = batch.json()["results"]
        if person_name in PEOPLE_IN_SCOPE[role]:
            assert single.status_code == 200, single.content
            assert single.json()["allowed"] is True
            assert single.json()["consent"] == world["consent"][f"c_{person_name}"].pk
            assert result == single.json()
        else:
            assert_error(single, 404, "not_found")
            assert result["error"]["code"] == "not_found"
    assert counts() == before


def test_a_check_outside_scope_is_the_same_as_on_a_missing_person(world):
    client = world.client("studio_a")
    pa = world.productions["pa"]
    hidden = client.post(
        reverse("consent-check"), check_body(world.people["bob"], pa), format="json"
    )
    missing = client.post(reverse("consent-check"), check_body(NONEXISTENT_ID, pa), format="json")
    assert_error(hidden, 404, "not_found")
    assert hidden.json() == missing.json()
    # And a production outside scope, like a missing production.
    ann = world.people["ann"]
    hidden = client.post(
        reverse("consent-check"), check_body(ann, world.productions["pb"]), format="json"
    )
    missing = client.post(reverse("consent-check"), check_body(ann, NONEXISTENT_ID), format="json")
    assert_error(hidden, 404, "not_found")
    assert hidden.json() == missing.json()


# --- guild and payroll callers write no consent records ---------------------------------------


@pytest.mark.parametrize("role", ["sag", "wga", "payroll_a"])
def test_guild_staff_and_payroll_keys_cannot_create_consent_records(world, role, media_root):
    """Even naming a production and person they can see."""
    before, files = counts(), media_files(media_root)
    production, person = {"sag": ("pa", "ann"), "wga": ("pa", "abe"), "payroll_a": ("pa", "ann")}[
        role
    ]
    for name in routes("create"):
        response = post_create(
            world, role, name[0], world.productions[production].pk, world.people[person].pk
        )
        body = assert_error(response, 403, "permission_denied")
        assert "credentials" not in body["message"].lower(), body
    assert counts() == before
    assert media_files(media_root) == files
    assert AiUse.objects.count() == 3
    assert UnionNotice.objects.count() == 3
    assert WgaDisclosure.objects.count() == 2


def test_a_staff_user_with_no_scope_sees_and_writes_nothing(world, media_root):
    nobody = UserFactory(username="no-scope")
    client = APIClient()
    client.force_authenticate(nobody)
    for name, _method in routes("list"):
        assert list_ids(client.get(reverse(name))) == set(), name
    assert list_ids(client.get(reverse("strike-period-list"))) == set()
    for kind in SCOPED:
        for obj in world[kind].values():
            assert_error(client.get(reverse(f"{kind}-detail", args=[obj.pk])), 404, "not_found")
    before, files = counts(), media_files(media_root)
    for name, _method in routes("create"):
        body, fmt = create_request(
            world,
            name,
            "studio_a",
            production=world.productions["pa"].pk,
            person=world.people["ann"].pk,
        )
        assert_error(client.post(reverse(name), body, format=fmt), 403, "permission_denied")
    assert_error(
        client.post(reverse("consent-check"), check_body(world.people["ann"], 1), format="json"),
        403,
        "permission_denied",
    )
    assert counts() == before
    assert media_files(media_root) == files
