"""What the test suites share: the API's answers (its one error shape, a list's ids, a refused
role), clients, a payable posted through the ledger's write path, and the scaffolding of the
access matrices (every role × every route × records inside and outside its scope).

Plain functions, not fixtures: test modules, Hypothesis state machines and world builders call
them directly."""

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from rest_framework.test import APIClient

from ledger.journal.services import Fringe, payable_create
from ledger.models import Payable
from tests.factories import PersonFactory, ProductionFactory, UserFactory

# --- the registry's seeded rows ---------------------------------------------------------------

# The data migrations that seed the catalogue's guilds and agreements, each with an idempotent
# `seed(apps, schema_editor)`.
REGISTRY_SEEDS = (
    "ledger.migrations.0002_seed_guilds_and_agreements",
    "ledger.migrations.0012_non_union_agreement_and_wga_2026_term",
)


def seed_registry() -> None:
    """Put back the guilds and agreements the migrations seed (a transactional test's flush
    removed them), by the migrations' own idempotent functions."""
    import importlib

    from django.apps import apps

    for module in REGISTRY_SEEDS:
        importlib.import_module(module).seed(apps, None)


# --- the API's answers ------------------------------------------------------------------------


def assert_error(response, status: int | None = None, code: str | None = None) -> dict:
    """The one error shape of the API: a 4xx JSON body {code, message, fields}, with `status`
    (and `code`) when given. Returns the body."""
    detail = (response.status_code, response.content[:800])
    if status is None:
        assert 400 <= response.status_code < 500, detail
    else:
        assert response.status_code == status, detail
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"code", "message", "fields"}, body
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["fields"], dict), body
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_refused_role(response, role: str) -> dict:
    """A role the route is not for: anonymous callers 401 (told to authenticate with a key, as on
    every route of the API), everyone else 403."""
    if role == "anonymous":
        body = assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Api-Key"
        return body
    return assert_error(response, 403, "permission_denied")


def csv_text(response) -> str:
    """A CSV download's text. It starts with the UTF-8 byte-order mark (spreadsheets need it to
    read accents right), which is checked and taken off."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), text[:80]
    return text[1:]


def list_ids(response) -> set:
    """The ids on a list's one page (the test worlds fit on one)."""
    assert response.status_code == 200, response.content[:800]
    body = response.json()
    assert body["next"] is None, "the world fits on one page"
    return {row["id"] for row in body["results"]}


# --- clients ----------------------------------------------------------------------------------


def key_client(raw_key: str) -> APIClient:
    """A client calling with a payroll API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


def role_client(
    role: str, users: Mapping[str, Any], raw_keys: Mapping[str, str], *, login: bool = False
) -> APIClient:
    """A client acting as `role`: with its API key when `raw_keys` names one, as its staff user
    (logged in with a session when `login`, else force-authenticated), or anonymous."""
    if role in raw_keys:
        return key_client(raw_keys[role])
    client = APIClient()
    if role != "anonymous":
        if login:
            client.force_login(users[role])
        else:
            client.force_authenticate(users[role])
    return client


# --- the journal ------------------------------------------------------------------------------


def make_payable(
    engagement=None,
    amount: Decimal | str = Decimal("1000.00"),
    *,
    actor=None,
    production=None,
    person=None,
    with_engagement: bool = True,
    currency: str = "USD",
    fringes: Iterable[Fringe] = (),
    description: str = "Day rate",
    due_date: date = date(2025, 6, 20),
) -> Payable:
    """A payable for the week of 2 June 2025 and its obligation transaction, posted by
    `payable_create`, which posts it through `obligations_post` as a compensation run's approval
    posts its own. On `engagement` (its production and person; attached to the payable unless
    `with_engagement` is false), or else on `production` and `person` (made when not given)."""
    if engagement is not None:
        production, person = engagement.production, engagement.person
    tag = uuid.uuid4().hex[:12]
    return payable_create(
        actor=actor or UserFactory(username="journal-actor"),
        production=production or ProductionFactory(),
        person=person or PersonFactory(),
        engagement=engagement if with_engagement else None,
        rule="SAG-TVTH-DAY",
        description=description,
        amount=Decimal(amount),
        currency=currency,
        period_from=date(2025, 6, 2),
        period_to=date(2025, 6, 6),
        due_date=due_date,
        source_type="test",
        source_id=tag,
        fringes=list(fringes),
    )


# --- access matrices --------------------------------------------------------------------------
#
# A matrix maps every (url name, HTTP method) an app's urls.py serves to how its test file checks
# it ("list", "detail", "create", ...); the parametrised tests are generated from it, and
# `assert_matrix_declares_every_route` fails as soon as a route is served without being declared.

HANDLER_METHODS = ("get", "post", "put", "patch", "delete")

Route = tuple[str, str]  # (url name, HTTP method)


def served(patterns) -> set[Route]:
    """The (url name, method) pairs the url patterns serve."""
    routes = set()
    for pattern in patterns:
        actions = getattr(pattern.callback, "actions", None)
        if actions is None:  # a plain view: the HTTP methods its class handles
            view_class = pattern.callback.view_class
            actions = [m for m in HANDLER_METHODS if hasattr(view_class, m)]
        assert actions, f"{pattern.pattern} serves nothing?"
        assert pattern.name, f"{pattern.pattern} has no name; name it and declare it here"
        routes |= {(pattern.name, m) for m in actions if m not in ("head", "options")}
    return routes


def routes_of(matrix: Mapping[Route, str], kind: str) -> list[Route]:
    """The matrix's routes of one kind, sorted (for parametrize)."""
    return sorted(route for route, k in matrix.items() if k == kind)


def kind_of(url_name: str) -> str:
    """The resource of a url name: 'webhook-endpoint-detail' → 'webhook-endpoint'."""
    return url_name.rsplit("-", 1)[0]


def assert_matrix_declares_every_route(urls, matrix: Mapping[Route, str], *, what: str) -> None:
    """`urls` (an app's urls module, with its `router` and `urlpatterns`) serves exactly the
    matrix's routes, and every route of its router is in its urlpatterns."""
    url_routes = served(urls.urlpatterns)
    assert served(urls.router.urls) <= url_routes
    undeclared = url_routes - set(matrix)
    assert not undeclared, f"routes missing from the {what}: {sorted(undeclared)}"
    stale = set(matrix) - url_routes
    assert not stale, f"the matrix declares routes the API does not serve: {sorted(stale)}"
    assert {p.name for p in urls.urlpatterns} == {name for name, _m in matrix}


@contextmanager
def built_once(django_db_blocker, build: Callable[[], Any]) -> Iterator[Any]:
    """For a module-scoped world fixture: `build()` inside a transaction rolled back at the end of
    the module. Each test runs inside its own savepoint of it (pytest-django's atomic), so no
    test's writes reach another test; tests must not change the world's Python objects (re-read
    rows instead)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build()
        transaction.set_rollback(True)


# --- runs -------------------------------------------------------------------------------------


def acknowledge_all(run, actor=None, note: str = "Reviewed: approved as computed.") -> list:
    """Acknowledge, with `note`, every item of the run's review not yet acknowledged (its
    exceptions and its lines needing confirmation), so that it may be approved. As `actor` (by
    default who started the run), with an administrator's scope."""
    from compensation import review
    from ledger.access import SYSTEM_SCOPE

    return [
        review.acknowledge(
            actor=actor or run.started_by, run=run, key=key, note=note, scope=SYSTEM_SCOPE
        )
        for key in review.missing(run)
    ]
