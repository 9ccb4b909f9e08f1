"""Tenancy of compensation: every role × every compensation route × records inside and outside
its scope.

The world (tests.compensation.api_helpers.build_world): studio Meridian's film works under
SAG-AFTRA, WGA and IATSE (Ann, Abe, Cy); studio Northgate's `Harbor Nights` under SAG-AFTRA (Bob).
Each has timecards, terms, a computed run with lines and a resolved violation; Abe has a delivery.
So studio staff see their own studio's records, SAG-AFTRA staff the SAG-AFTRA records of both
studios, WGA and IATSE staff only their guild's records of the film; guild staff read but never
write; payroll keys are refused (403: they read payables through the ledger) and anonymous
callers are told to authenticate (401). Outside the scope a record answers exactly like a
nonexistent one.

`MATRIX` declares every (url name, HTTP method) compensation/urls.py serves;
`test_matrix_declares_every_route` fails as soon as a route is added without being declared here.
"""

from datetime import date
from functools import partial

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from compensation import review, services
from compensation import urls as compensation_urls
from compensation.api import QUOTE_EXAMPLE
from compensation.models.pay import RunAcknowledgement
from tests.compensation.api_helpers import (
    NONEXISTENT_ID,
    build_world,
    clear_parameter_cache,
    computed_run,
    counts,
    record_day,
    record_violation,
    upload,
)
from tests.helpers import (
    acknowledge_all,
    assert_error,
    assert_matrix_declares_every_route,
    assert_refused_role,
    built_once,
    list_ids,
    role_client,
    routes_of,
)

pytestmark = pytest.mark.django_db

# --- the matrix ------------------------------------------------------------------------------

# Every route compensation/urls.py serves, and how this file checks it:
#   quote   — any staff caller computes; payroll 403; anonymous 401
#   list    — exactly the role's scope
#   detail  — 200 in scope, 404 (like a nonexistent id) outside it
#   lines   — a run's lines: 404 outside the scope, and only the lines in the scope inside it
#   sheet   — loading a rate sheet: only the guild's staff (or a superuser)
#   create  — studio staff of the record's studio (or a superuser); other studio staff naming
#             another tenant's engagement, production or use get a 400 naming the field, like a
#             nonexistent one; guild staff and payroll 403; anonymous 401; nothing written
#   write   — a correction: the studio's staff; other studio staff 404; guild staff and payroll
#             403; anonymous 401; nothing written
#   approve — the production's studio staff; other studio staff 404; guild staff 403
#   review  — a run's review: 404 outside the scope, the caller's part of it inside
#   acknowledge — an item of a run's review: as approve
MATRIX = {
    ("quote", "post"): "quote",
    ("rate-sheet-list", "get"): "list",
    ("rate-sheet-list", "post"): "sheet",
    ("rate-sheet-detail", "get"): "detail",
    ("engagement-terms-list", "get"): "list",
    ("engagement-terms-list", "post"): "create",
    ("engagement-terms-detail", "get"): "detail",
    ("engagement-terms-detail", "put"): "write",
    ("engagement-terms-detail", "patch"): "write",
    ("timecard-list", "get"): "list",
    ("timecard-list", "post"): "create",
    ("timecard-import-csv", "post"): "create",
    ("timecard-detail", "get"): "detail",
    ("timecard-detail", "put"): "write",
    ("timecard-detail", "patch"): "write",
    ("delivery-list", "get"): "list",
    ("delivery-list", "post"): "create",
    ("delivery-import-csv", "post"): "create",
    ("delivery-detail", "get"): "detail",
    ("delivery-detail", "put"): "write",
    ("delivery-detail", "patch"): "write",
    ("run-list", "get"): "list",
    ("run-list", "post"): "create",
    ("run-detail", "get"): "detail",
    ("run-approve", "post"): "approve",
    ("run-review", "get"): "review",
    ("run-acknowledge", "post"): "acknowledge",
    ("run-lines", "get"): "lines",
    ("line-list", "get"): "list",
    ("line-detail", "get"): "detail",
    ("hold-resolution-list", "get"): "list",
    ("hold-resolution-list", "post"): "create",
    ("hold-resolution-detail", "get"): "detail",
}

KINDS = {
    "rate-sheet": "rate_sheets",
    "engagement-terms": "terms",
    "timecard": "timecards",
    "delivery": "deliveries",
    "run": "runs",
    "line": "lines",
    "hold-resolution": "holds",
}
ROLES = ["studio_a", "studio_b", "sag", "wga", "iatse", "root", "payroll_a", "anonymous"]
STAFF = ["studio_a", "studio_b", "sag", "wga", "iatse", "root"]
GUILD_STAFF = ["sag", "wga", "iatse"]

# Who sees what, by name (lines: by whose engagement they are).
EVERYTHING = {
    "rate_sheets": {"sag_sheet"},
    "terms": {"terms_cy", "terms_bob"},
    "timecards": {"t_ann", "t_cy", "t_bob"},
    "deliveries": {"d_abe"},
    "runs": {"run_film", "run_harbor"},
    "lines": {"ann", "abe", "cy", "bob"},
    "holds": {"h_ann", "h_bob"},
}
VISIBLE = {
    "studio_a": {
        "rate_sheets": {"sag_sheet"},
        "terms": {"terms_cy"},
        "timecards": {"t_ann", "t_cy"},
        "deliveries": {"d_abe"},
        "runs": {"run_film"},
        "lines": {"ann", "abe", "cy"},
        "holds": {"h_ann"},
    },
    "studio_b": {
        "rate_sheets": {"sag_sheet"},
        "terms": {"terms_bob"},
        "timecards": {"t_bob"},
        "deliveries": set(),
        "runs": {"run_harbor"},
        "lines": {"bob"},
        "holds": {"h_bob"},
    },
    "sag": {
        "rate_sheets": {"sag_sheet"},
        "terms": {"terms_bob"},
        "timecards": {"t_ann", "t_bob"},
        "deliveries": set(),
        "runs": {"run_film", "run_harbor"},
        "lines": {"ann", "bob"},
        "holds": {"h_ann", "h_bob"},
    },
    "wga": {
        "rate_sheets": {"sag_sheet"},
        "terms": set(),
        "timecards": set(),
        "deliveries": {"d_abe"},
        "runs": {"run_film"},
        "lines": {"abe"},
        "holds": set(),
    },
    "iatse": {
        "rate_sheets": {"sag_sheet"},
        "terms": {"terms_cy"},
        "timecards": {"t_cy"},
        "deliveries": set(),
        "runs": {"run_film"},
        "lines": {"cy"},
        "holds": set(),
    },
    "root": EVERYTHING,
}


routes = partial(routes_of, MATRIX)  # the routes of one kind, for parametrize


# --- the world -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction rolled back at its end; each test runs in
    its own savepoint of it, so no test's writes reach another."""
    with built_once(django_db_blocker, _build) as world:
        yield world
    clear_parameter_cache()


def _build():
    clear_parameter_cache()
    return populate(build_world())


@pytest.fixture
def world(shared_world):
    return shared_world


def populate(w):
    m = w.maya
    w.objects = {kind: {} for kind in EVERYTHING}
    sheet = services.rate_sheet_load(
        actor=w.sam,
        agreement=w.ann.agreement,
        name="SAG-AFTRA rates 2025-26",
        source="SAG-AFTRA rate sheet",
        file_name="rates.csv",
        content="parameter,from,value\nsag.minimum.stand_in,2025-08-01,300\n",
        file_format="csv",
    )
    w.objects["rate_sheets"]["sag_sheet"] = sheet
    w.objects["terms"]["terms_cy"] = services.terms_set(
        actor=m, engagement=w.cy, wage_classification="grip"
    )
    w.objects["terms"]["terms_bob"] = services.terms_set(
        actor=w.nora, engagement=w.bob, wage_classification=""
    )
    w.objects["timecards"].update(
        t_ann=record_day(w.ann, m),
        t_cy=record_day(w.cy, m, call="06:00", dismissal="18:00", meals=[["12:00", "12:30"]]),
        t_bob=record_day(w.bob, w.nora),
    )
    w.objects["deliveries"]["d_abe"] = services.delivery_save(
        actor=m,
        engagement=w.abe,
        work_type="screenplay",
        date=date(2025, 8, 5),
        ai_material_handed_over=False,
        fee="45000.00",
    )
    for name, engagement, actor in [("h_ann", w.ann, m), ("h_bob", w.bob, w.nora)]:
        use = record_violation(engagement)
        w.objects["holds"][name] = services.hold_resolve(
            actor=actor, ai_use=use, decision="void", reason="Recorded twice."
        )
    w.open_use = record_violation(w.ann, on=w.objects["holds"]["h_ann"].ai_use.starts_at)
    w.open_use_b = record_violation(w.bob)
    w.objects["runs"]["run_film"] = computed_run(w.film, m)
    w.objects["runs"]["run_harbor"] = computed_run(w.harbor, w.nora)
    w.lines_of = {}
    for run in w.objects["runs"].values():
        for line in run.lines.select_related("engagement__person"):
            who = line.engagement.person.legal_name.split()[0].lower()
            w.lines_of.setdefault(who, set()).add(line.pk)
    assert set(w.lines_of) == EVERYTHING["lines"], w.lines_of
    w.users = {
        "studio_a": w.maya,
        "studio_b": w.nora,
        "sag": w.sam,
        "wga": w.wes,
        "iatse": w.ian,
        "root": w.root,
    }
    return w


def client(world, role) -> APIClient:
    return role_client(role, world.users, {"payroll_a": world.meridian_key})


def ids_of(world, kind, names) -> set:
    if kind == "lines":
        return set().union(*(world.lines_of[n] for n in names)) if names else set()
    return {world.objects[kind][n].pk for n in names}


# --- the matrix is complete ------------------------------------------------------------------


def test_matrix_declares_every_route():
    registry = {basename for _prefix, _viewset, basename in compensation_urls.router.registry}
    assert registry == set(KINDS), "a viewset was registered or removed; add it to KINDS, VISIBLE"
    assert_matrix_declares_every_route(compensation_urls, MATRIX, what="compensation matrix")


def test_every_role_has_records_in_and_out_of_scope(world):
    for role in STAFF:
        for kind, names in VISIBLE[role].items():
            assert names <= EVERYTHING[kind], (role, kind)
    for role in ["studio_a", "studio_b", *GUILD_STAFF]:
        hidden = [k for k in EVERYTHING if k != "rate_sheets" and EVERYTHING[k] - VISIBLE[role][k]]
        assert len(hidden) >= 4, (role, hidden)


# --- reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("route", routes("list"))
def test_list_shows_exactly_the_scope(world, role, route):
    kind = KINDS[route[0].removesuffix("-list")]
    got = list_ids(client(world, role).get(reverse(route[0])))
    assert got == ids_of(world, kind, VISIBLE[role][kind])


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("route", routes("detail"))
def test_detail_is_404_outside_the_scope(world, role, route):
    kind = KINDS[route[0].removesuffix("-detail")]
    api = client(world, role)
    missing = assert_error(api.get(reverse(route[0], args=[NONEXISTENT_ID])), 404, "not_found")
    visible = ids_of(world, kind, VISIBLE[role][kind])
    for pk in ids_of(world, kind, EVERYTHING[kind]):
        response = api.get(reverse(route[0], args=[pk]))
        if pk in visible:
            assert response.status_code == 200, (role, kind, pk, response.content[:300])
            assert response.json()["id"] == pk
        else:
            assert assert_error(response, 404, "not_found") == missing, (role, kind, pk)


@pytest.mark.parametrize("role", STAFF)
def test_a_runs_lines_are_404_outside_the_scope_and_cut_to_it_inside(world, role):
    api = client(world, role)
    visible_runs = ids_of(world, "runs", VISIBLE[role]["runs"])
    visible_lines = ids_of(world, "lines", VISIBLE[role]["lines"])
    for run in world.objects["runs"].values():
        response = api.get(reverse("run-lines", args=[run.pk]))
        if run.pk in visible_runs:
            in_run = set(run.lines.values_list("id", flat=True))
            assert list_ids(response) == in_run & visible_lines, (role, run)
        else:
            assert_error(response, 404, "not_found")


@pytest.mark.parametrize("role", ["payroll_a", "anonymous"])
def test_payroll_keys_and_anonymous_callers_reach_no_compensation_route(world, role):
    api = client(world, role)
    run = world.objects["runs"]["run_film"]
    before = counts()
    for name, method in sorted(MATRIX):
        if name == "quote":
            url = reverse(name)
        elif name.endswith("-list") or name.endswith("-import-csv"):
            url = reverse(name)
        elif name.startswith("run-"):
            url = reverse(name, args=[run.pk])
        else:
            model_kind = KINDS[name.removesuffix("-detail")]
            obj = next(iter(world.objects[model_kind].values()), None)
            url = reverse(name, args=[obj.pk if obj else NONEXISTENT_ID])
        response = getattr(api, method)(url, {}, format="json")
        assert_refused_role(response, role)
    assert counts() == before


# --- writes ----------------------------------------------------------------------------------


def create_request(world, route):
    """The request of a create route naming studio A's records (the film)."""
    w = world
    if route == ("engagement-terms-list", "post"):
        return {"engagement": w.ann.pk, "wage_classification": ""}, "engagement", "json"
    if route == ("timecard-list", "post"):
        return (
            {
                "engagement": w.ann.pk,
                "date": "2025-08-07",
                "first_call": "07:00",
                "dismissal": "15:00",
            },
            "engagement",
            "json",
        )
    if route == ("delivery-list", "post"):
        return (
            {"engagement": w.abe.pk, "work_type": "treatment", "date": "2025-08-07"},
            "engagement",
            "json",
        )
    if route == ("timecard-import-csv", "post"):
        text = f"engagement,date,first_call,dismissal\n{w.ann.pk},2025-08-07,07:00,15:00\n"
        return {"file": upload("t.csv", text)}, "rows", "multipart"
    if route == ("delivery-import-csv", "post"):
        text = f"engagement,work_type,date\n{w.abe.pk},treatment,2025-08-07\n"
        return {"file": upload("d.csv", text)}, "rows", "multipart"
    if route == ("run-list", "post"):
        return (
            {
                "production": w.film.pk,
                "period_from": "2025-09-01",
                "period_to": "2025-09-07",
                "due_date": "2025-09-20",
            },
            "production",
            "json",
        )
    if route == ("hold-resolution-list", "post"):
        return (
            {"ai_use": w.open_use.pk, "decision": "release", "reason": "Rider found."},
            "ai_use",
            "json",
        )
    raise AssertionError(route)


CREATED = {"run-list": 202}


@pytest.mark.parametrize("route", routes("create"))
@pytest.mark.parametrize("role", ["studio_a", "root"])
def test_studio_staff_create_for_their_own_studio(world, route, role):
    body, _field, fmt = create_request(world, route)
    response = client(world, role).post(reverse(route[0]), body, format=fmt)
    expected = CREATED.get(route[0], 201)
    assert response.status_code == expected, (role, route, response.content[:500])


@pytest.mark.parametrize("route", routes("create"))
def test_naming_another_studios_record_is_like_naming_a_missing_one(world, route):
    body, field, fmt = create_request(world, route)
    before = counts()
    response = client(world, "studio_b").post(reverse(route[0]), body, format=fmt)
    error = assert_error(response, 400)
    assert field in error["fields"], error
    if field == "rows":
        [row] = error["fields"]["rows"]
        assert row["fields"] == {"engagement": "Unknown."}
    else:
        # The same answer as for an id that does not exist.
        missing = {**body, field: NONEXISTENT_ID}
        other = assert_error(
            client(world, "studio_b").post(reverse(route[0]), missing, format=fmt), 400
        )
        assert error["fields"][field] == [
            m.replace(str(NONEXISTENT_ID), str(body[field])) for m in other["fields"][field]
        ]
    assert counts() == before


@pytest.mark.parametrize("role", [*GUILD_STAFF, "payroll_a", "anonymous"])
@pytest.mark.parametrize("route", routes("create"))
def test_callers_who_may_write_nothing_are_refused_creates(world, role, route):
    body, _field, fmt = create_request(world, route)
    before = counts()
    response = client(world, role).post(reverse(route[0]), body, format=fmt)
    assert_refused_role(response, role)
    assert counts() == before


WRITE_TARGETS = {
    "engagement-terms-detail": (
        "terms",
        "terms_cy",
        {"engagement": None, "wage_classification": "best_boy"},
    ),
    "timecard-detail": (
        "timecards",
        "t_ann",
        {
            "engagement": None,
            "date": "2025-08-04",
            "first_call": "07:00",
            "dismissal": "18:00",
        },
    ),
    "delivery-detail": (
        "deliveries",
        "d_abe",
        {"engagement": None, "work_type": "screenplay", "date": "2025-08-05", "fee": "1.00"},
    ),
}


def write_request(world, route):
    kind, name, body = WRITE_TARGETS[route[0]]
    obj = world.objects[kind][name]
    body = {**body, "engagement": obj.engagement_id}
    if route[1] == "patch":
        body = {k: v for k, v in body.items() if k not in ("engagement", "date", "work_type")}
    return obj, body


@pytest.mark.parametrize("route", routes("write"))
@pytest.mark.parametrize("role", ["studio_a", "root"])
def test_studio_staff_correct_their_own_records(world, route, role):
    obj, body = write_request(world, route)
    response = getattr(client(world, role), route[1])(
        reverse(route[0], args=[obj.pk]), body, format="json"
    )
    assert response.status_code == 200, (role, route, response.content[:500])
    assert response.json()["id"] == obj.pk


@pytest.mark.parametrize("route", routes("write"))
def test_another_studios_correction_is_404(world, route):
    obj, body = write_request(world, route)
    before = counts()
    api = client(world, "studio_b")
    response = getattr(api, route[1])(reverse(route[0], args=[obj.pk]), body, format="json")
    missing = getattr(api, route[1])(reverse(route[0], args=[NONEXISTENT_ID]), body, format="json")
    assert assert_error(response, 404, "not_found") == assert_error(missing, 404, "not_found")
    assert counts() == before


@pytest.mark.parametrize("role", [*GUILD_STAFF, "payroll_a", "anonymous"])
@pytest.mark.parametrize("route", routes("write"))
def test_callers_who_may_write_nothing_cannot_correct(world, role, route):
    obj, body = write_request(world, route)
    before = counts()
    response = getattr(client(world, role), route[1])(
        reverse(route[0], args=[obj.pk]), body, format="json"
    )
    assert_refused_role(response, role)
    assert counts() == before


@pytest.mark.parametrize("role", ["studio_b", *GUILD_STAFF, "payroll_a", "anonymous"])
def test_only_the_productions_studio_approves_its_run(world, role):
    run = world.objects["runs"]["run_film"]
    before = counts()
    response = client(world, role).post(reverse("run-approve", args=[run.pk]))
    if role == "studio_b":
        missing = client(world, role).post(reverse("run-approve", args=[NONEXISTENT_ID]))
        assert assert_error(response, 404) == assert_error(missing, 404)
    else:
        assert_refused_role(response, role)
    assert counts() == before
    run.refresh_from_db()
    assert run.status == "computed"


@pytest.mark.parametrize("role", ["studio_a", "root"])
def test_the_productions_studio_staff_approve_its_run(world, role):
    run = world.objects["runs"]["run_film"]
    acknowledge_all(run)
    response = client(world, role).post(reverse("run-approve", args=[run.pk]))
    assert response.status_code == 200, response.content[:500]
    assert response.json()["status"] == "approved"


@pytest.mark.parametrize("role", STAFF)
def test_a_runs_review_is_404_outside_the_scope(world, role):
    api = client(world, role)
    visible_runs = ids_of(world, "runs", VISIBLE[role]["runs"])
    for run in world.objects["runs"].values():
        response = api.get(reverse("run-review", args=[run.pk]))
        if run.pk in visible_runs:
            assert response.status_code == 200, (role, run, response.content[:300])
            assert response.json()["run"] == run.pk
        else:
            assert_error(response, 404, "not_found")


@pytest.mark.parametrize("role", ["studio_b", *GUILD_STAFF, "payroll_a", "anonymous"])
def test_only_the_productions_studio_acknowledges_its_runs_items(world, role):
    run = world.objects["runs"]["run_film"]
    body = {"key": review.missing(run)[0], "note": "Checked."}
    response = client(world, role).post(reverse("run-acknowledge", args=[run.pk]), body)
    if role == "studio_b":
        missing = client(world, role).post(reverse("run-acknowledge", args=[NONEXISTENT_ID]), body)
        assert assert_error(response, 404) == assert_error(missing, 404)
    else:
        assert_refused_role(response, role)
    assert not RunAcknowledgement.objects.exists()


@pytest.mark.parametrize("role", ["studio_a", "root"])
def test_the_productions_studio_staff_acknowledge_its_runs_items(world, role):
    run = world.objects["runs"]["run_film"]
    key = review.missing(run)[0]
    response = client(world, role).post(
        reverse("run-acknowledge", args=[run.pk]), {"key": key, "note": "Checked."}, format="json"
    )
    assert response.status_code == 201, response.content[:500]
    assert response.json()["key"] == key


# --- rate sheets -----------------------------------------------------------------------------

SHEET_TEXT = {
    "sag-tvth-2023": "parameter,from,value\nsag.minimum.background,2025-08-01,200\n",
    "wga-mba-2023": "parameter,from,value,unit,rule\nwga.minimum.story,2025-08-01,20000,USD,x\n",
    "iatse-basic-2024": "parameter,from,value,unit\niatse.scale.grip,2025-08-01,52,USD/hour\n",
}
MAY_LOAD = {
    "sag-tvth-2023": {"sag", "root"},
    "wga-mba-2023": {"wga", "root"},
    "iatse-basic-2024": {"iatse", "root"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("agreement_code", list(SHEET_TEXT))
def test_only_the_guilds_staff_load_its_sheets(world, role, agreement_code):
    body = {
        "agreement": agreement_code,
        "name": "Rates",
        "source": "The guild's sheet",
        "file": upload("rates.csv", SHEET_TEXT[agreement_code]),
    }
    before = counts()
    response = client(world, role).post(reverse("rate-sheet-list"), body, format="multipart")
    if role in MAY_LOAD[agreement_code]:
        assert response.status_code == 201, response.content[:500]
        assert response.json()["agreement"] == agreement_code
    else:
        if role in ("payroll_a", "anonymous"):
            assert_refused_role(response, role)
        else:
            assert_error(response, 403, "permission_denied")
        assert counts() == before


# --- the quote -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_caller_may_quote(world, role):
    response = client(world, role).post(reverse("quote"), QUOTE_EXAMPLE, format="json")
    if role in STAFF:
        assert response.status_code == 200 and response.json()["total"]
    else:
        assert_refused_role(response, role)


# --- what a run shows a guild --------------------------------------------------------------


@pytest.mark.parametrize("role", GUILD_STAFF)
def test_a_guild_sees_only_its_own_engagements_in_a_runs_exceptions(world, role):
    run = world.objects["runs"]["run_film"]
    assert {e["engagement"] for e in run.exceptions} >= {world.cy.pk, world.abe.pk}
    in_scope = {
        "sag": {world.ann.pk},
        "wga": {world.abe.pk},
        "iatse": {world.cy.pk},
    }[role]
    body = client(world, role).get(reverse("run-detail", args=[run.pk])).json()
    shown = {e.get("engagement") for e in body["exceptions"]}
    assert shown <= in_scope, (role, body["exceptions"])
