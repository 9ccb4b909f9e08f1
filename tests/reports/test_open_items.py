"""Each staff user's open items (/admin/open-items/, reports.open_items): each group's count and
links for studio staff, guild staff, another studio's staff and an administrator; a hold
resolution, a resolved flag and a payment taking items off; the runs' groups (review items to
acknowledge, exceptions, runs to recompute after a rate sheet's load); each link opening the
page where the item is resolved; a page with no raw data on it; and a bounded query count.

Two scenes: the dashboard's (tests/reports/test_dashboard.py: violations, consents, flags and
payables around now) and the compensation tests' world (tests/compensation/api_helpers.py: a
computed pay run of The Long Light with an exception and lines needing confirmation)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compensation import review
from compensation.models import CompensationRun, RateSheet
from compensation.services import hold_resolve
from consent import requests
from consent.services import ai_use_record
from core.audit import save_audited
from ledger.access import SYSTEM_SCOPE, Scope, scope_for
from ledger.journal.services import payment_confirm
from ledger.models import Payable
from reports.open_items import open_items
from reports.services import flag_raise, flag_resolve
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    record_day,
)
from tests.compensation.test_rate_sheet_admin import DAY_RATE_FROM_AUGUST, add_sheet
from tests.factories import SPECIFIC, UserFactory, studio_staff
from tests.helpers import acknowledge_all
from tests.reports.test_dashboard import build_scenario

pytestmark = pytest.mark.django_db

URL = "/admin/open-items/"
COMMON = ["violations", "expiring_consents", "flags"]
STUDIO = [
    *COMMON,
    "runs_to_review",
    "runs_with_exceptions",
    "runs_to_recompute",
    "overdue_payables",
    "consent_requests",
]


@pytest.fixture(autouse=True)
def fresh_parameters(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    clear_parameter_cache()
    yield
    clear_parameter_cache()


@pytest.fixture
def s():
    s = build_scenario(timezone.now())
    s.northgate_user = studio_staff(s.northgate, "northgate-staff")
    s.root = UserFactory(username="root", is_superuser=True)
    return s


def page_of(client: Client, user) -> tuple[dict[str, int], dict[str, list[str]], str]:
    """({group: count}, {group: item links}, the page) as the page shows them."""
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    counts = {
        key: int(n) for key, n in re.findall(r'data-group="([a-z_]+)" data-count="(\d+)"', page)
    }
    links: dict[str, list[str]] = {}
    for key, body in re.findall(r'<section id="([a-z_]+)"(.*?)</section>', page, re.S):
        links[key] = re.findall(r'<li><a href="([^"]+)">', body)
    return counts, links, page


def change(name: str, *objs) -> list[str]:
    return [reverse(f"admin:{name}_change", args=[obj.pk]) for obj in objs]


def by_key(user, now=None) -> dict:
    return {g.key: g for g in open_items(scope_for(user), now=now or timezone.now())}


# --- who sees what --------------------------------------------------------------------------


def test_studio_staff_see_their_studios_items_with_links_to_where_each_is_resolved(client, s):
    counts, links, page = page_of(client, s.studio_user)
    assert list(counts) == STUDIO
    assert counts == {
        "violations": 4,  # Hal's two uses, Wes's, Cy's; Ann's is covered
        "expiring_consents": 1,  # Ann's (Eve's ends in 40 days, Dan's is revoked)
        "flags": 3,  # Night Shift's flag is resolved
        "runs_to_review": 0,
        "runs_with_exceptions": 0,
        "runs_to_recompute": 0,
        "overdue_payables": 3,  # Ann USD and CAD, Wes; Eve's is not due yet
        "consent_requests": 0,
    }
    # Oldest first.
    assert links["violations"] == change(
        "consent_aiuse", s.hal_past, s.wes_use, s.cy_use, s.hal_planned
    )
    assert links["expiring_consents"] == change("consent_consent", s.ann_consent)
    assert links["flags"] == change("reports_flag", s.film_flag, s.hal_flag, s.wes_flag)
    overdue = Payable.objects.filter(production=s.film, due_date__lt=s.today).order_by("due_date")
    assert links["overdue_payables"] == change("ledger_payable", *overdue)
    assert "600.00 USD due since" in page  # 1,000 owed, 400 paid
    empty = ("runs_to_review", "runs_with_exceptions", "runs_to_recompute", "consent_requests")
    for key in empty:
        assert links[key] == []
    assert page.count("Nothing open") == len(empty)
    # Every link opens the page where the item is resolved, for this user.
    for url in [u for group in links.values() for u in group]:
        assert client.get(url).status_code == 200, url


def test_guild_staff_see_their_guilds_items_across_studios_and_no_studio_work(client, s):
    counts, links, _page = page_of(client, s.sag_user)
    assert counts == {"violations": 4, "expiring_consents": 2, "flags": 2}
    assert links["violations"] == change(
        "consent_aiuse", s.bob_use, s.hal_past, s.cy_use, s.hal_planned
    )  # Wes's use is under WGA's agreement
    assert links["expiring_consents"] == change("consent_consent", s.bo_consent, s.ann_consent)
    assert links["flags"] == change("reports_flag", s.film_flag, s.hal_flag)
    counts, links, _page = page_of(client, s.wga_user)
    assert counts == {"violations": 1, "expiring_consents": 0, "flags": 1}
    assert links["violations"] == change("consent_aiuse", s.wes_use)
    assert links["flags"] == change("reports_flag", s.wes_flag)


def test_another_studio_sees_none_of_meridians_items(client, s):
    counts, links, _page = page_of(client, s.northgate_user)
    assert counts == dict.fromkeys(STUDIO, 0) | {
        "violations": 1,
        "expiring_consents": 1,
        "overdue_payables": 1,
    }
    assert links["violations"] == change("consent_aiuse", s.bob_use)
    assert links["expiring_consents"] == change("consent_consent", s.bo_consent)
    bob_payable = Payable.objects.get(production=s.harbor)
    assert links["overdue_payables"] == change("ledger_payable", bob_payable)
    meridian = {
        *change("consent_aiuse", s.hal_past, s.wes_use),
        *change("reports_flag", s.film_flag),
    }
    assert not meridian & {u for group in links.values() for u in group}


def test_an_administrator_sees_everything(client, s):
    counts, _links, _page = page_of(client, s.root)
    assert counts == {
        "violations": 5,
        "expiring_consents": 2,
        "flags": 3,
        "runs_to_review": 0,
        "runs_with_exceptions": 0,
        "runs_to_recompute": 0,
        "overdue_payables": 4,
        "consent_requests": 0,
    }


def test_a_user_on_no_staff_sees_no_group(client, s):
    loner = UserFactory(username="loner")
    client.force_login(loner)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["groups"] == []
    assert "Nothing is waiting on you" in response.content.decode()


def test_the_page_needs_a_staff_login(client, s):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- items leave when resolved ---------------------------------------------------------------


def test_a_hold_resolution_a_resolved_flag_and_a_payment_take_items_off(s):
    before = by_key(s.studio_user)
    hold_resolve(actor=s.studio_user, ai_use=s.cy_use, decision="void", reason="Not used.")
    flag_resolve(
        actor=s.studio_user, scope=scope_for(s.studio_user), flag=s.wes_flag, note="Disclosed."
    )
    wes_payable = Payable.objects.get(production=s.film, currency="USD", amount=Decimal("2000"))
    payment_confirm(
        actor=s.clerk,
        client="user:clerk",
        idempotency_key="pay-wes",
        payable=wes_payable,
        amount=Decimal("2000.00"),
        paid_at=s.now,
        payroll_reference="PAY-WES-1",
        render=lambda payment: {"id": payment.pk},
    )
    after = by_key(s.studio_user)
    assert (before["violations"].count, after["violations"].count) == (4, 3)
    assert change("consent_aiuse", s.cy_use)[0] not in [i.url for i in after["violations"].items]
    assert (before["flags"].count, after["flags"].count) == (3, 2)
    assert (before["overdue_payables"].count, after["overdue_payables"].count) == (3, 2)


def test_a_consent_leaves_the_expiring_group_after_its_window(s):
    # 25 days on, Ann's consent (ending in 10 days) has ended; Eve's (40 days) is within 30 days.
    later = by_key(s.studio_user, now=s.now + timedelta(days=25))
    assert [i.url for i in later["expiring_consents"].items] == change(
        "consent_consent", s.eve_consent
    )


def test_a_group_lists_its_first_items_and_counts_them_all(s, monkeypatch):
    monkeypatch.setattr("reports.open_items.MAX_ITEMS", 2)
    group = by_key(s.studio_user)["violations"]
    assert (group.count, len(group.items), group.more) == (4, 2, 2)
    flags = by_key(s.studio_user)["flags"]
    assert flags.list_url == reverse("admin:reports_flag_changelist") + "?status=open"


# --- the page and its cost --------------------------------------------------------------------


def test_the_page_shows_words_not_raw_data(client, s):
    _counts, _links, page = page_of(client, s.studio_user)
    main = page[page.index('id="content-main"') :]
    for raw in ('{"', "{'", "OpenItem(", "OpenItemGroup(", "None", "[]"):
        assert raw not in main, raw
    assert "Violations to resolve" in main and "Consents expiring" in main


def test_the_admin_home_links_to_the_page(client, s):
    client.force_login(s.studio_user)
    page = client.get("/admin/").content.decode()
    assert f'<a href="{URL}">My open items</a>' in page


def test_the_query_count_does_not_grow_with_the_items(client, s, django_assert_max_num_queries):
    client.force_login(s.studio_user)
    client.get(URL)  # warm up the session and caches
    with CaptureQueriesContext(connection) as first:
        assert client.get(URL).status_code == 200
    # More of every kind: violations, flags, overdue payables.
    for days in (-6, -7, -8):
        use = ai_use_record(
            actor=s.clerk,
            scope=SYSTEM_SCOPE,
            production=s.night,
            person=s.cy.person,
            kind="replica_use",
            starts_at=s.now + timedelta(days=days),
            description="replica use in the night scenes",
            days=Decimal("1"),
        )
        flag_raise(actor=s.sag_user, scope=scope_for(s.sag_user), target=use, note="Why?")
    assert by_key(s.studio_user)["violations"].count == 7
    with CaptureQueriesContext(connection) as second:
        assert client.get(URL).status_code == 200
    assert len(second) == len(first)
    with django_assert_max_num_queries(30):
        client.get(URL)


# --- runs -------------------------------------------------------------------------------------


@pytest.fixture
def world():
    w = build_world()
    record_day(w.ann, w.maya, day=date(2025, 8, 4))
    record_day(w.cy, w.maya, day=date(2025, 8, 4), call="06:00", dismissal="18:00")
    w.run = computed_run(w.film, w.maya)
    return w


def test_a_computed_run_with_items_to_acknowledge_and_exceptions(client, world):
    run = CompensationRun.objects.get(pk=world.run.pk)
    missing = review.missing(run)
    assert run.exceptions and missing
    groups = by_key(world.maya)
    run_page = change("compensation_compensationrun", run)
    assert groups["runs_to_review"].count == 1
    assert [i.url for i in groups["runs_to_review"].items] == run_page
    assert f"{len(missing)} item(s) of its review" in groups["runs_to_review"].items[0].text
    assert groups["runs_with_exceptions"].count == 1
    assert f"{len(run.exceptions)} exception(s)" in groups["runs_with_exceptions"].items[0].text
    assert client.get(run_page[0]).status_code in (200, 302)
    # The other studio, and guild staff, have no run to act on.
    assert by_key(world.nora)["runs_to_review"].count == 0
    assert "runs_to_review" not in by_key(world.sam)
    # One acknowledged item lowers the number; all of them take the run off the group, while
    # the run, not yet approved, still has its exceptions.
    review.acknowledge(
        actor=world.maya, run=run, key=missing[0], note="Checked.", scope=SYSTEM_SCOPE
    )
    groups = by_key(world.maya)
    assert f"{len(missing) - 1} item(s)" in groups["runs_to_review"].items[0].text
    acknowledge_all(run, actor=world.maya)
    groups = by_key(world.maya)
    assert groups["runs_to_review"].count == 0
    assert groups["runs_with_exceptions"].count == 1


def test_the_batched_count_agrees_with_the_review_of_each_run(world):
    second = computed_run(world.film, world.maya, date(2025, 8, 11), date(2025, 8, 17))
    runs = [CompensationRun.objects.get(pk=world.run.pk), second]
    text = {i.url: i.text for i in by_key(world.root)["runs_to_review"].items}
    for run in runs:
        n = len(review.missing(run))
        url = change("compensation_compensationrun", run)[0]
        if n:
            assert f": {n} item(s)" in text[url]
        else:
            assert url not in text


def test_a_rate_sheet_load_lists_the_run_to_recompute_until_it_is_run_again(client, world):
    assert by_key(world.maya)["runs_to_recompute"].count == 0
    root = Client()
    root.force_login(world.root)
    assert add_sheet(root, DAY_RATE_FROM_AUGUST).status_code == 302
    sheet = RateSheet.objects.get()
    group = by_key(world.maya)["runs_to_recompute"]
    sheet_page = reverse("admin:compensation_ratesheet_change", args=[sheet.pk])
    assert group.count == 1
    assert [i.url for i in group.items] == [f"{sheet_page}#runs-to-recompute"]
    assert f"#{world.run.pk}" in group.items[0].text
    assert by_key(world.nora)["runs_to_recompute"].count == 0
    # Run again from the sheet's page: nothing left to recompute.
    maya = Client()
    maya.force_login(world.maya)
    rerun = maya.post(
        reverse("admin:compensation_ratesheet_rerun", args=[sheet.pk]), {"run": world.run.pk}
    )
    assert rerun.status_code == 302
    assert by_key(world.maya)["runs_to_recompute"].count == 0


def test_run_groups_cost_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    computed_run(world.film, world.maya, date(2025, 8, 11), date(2025, 8, 17))
    scope = Scope(studio_ids=frozenset({world.meridian.pk}))
    with django_assert_max_num_queries(15):
        open_items(scope, now=timezone.now())


def test_a_consent_request_waits_among_its_studios_items_until_it_is_answered(client, s):
    ann = s.ann.person
    ann.email = "ann@example.org"
    save_audited(ann, actor=s.studio_user)
    scope = scope_for(s.studio_user)
    draft = requests.request_prepare(
        actor=s.studio_user,
        scope=scope,
        person=ann,
        production=s.film,
        kind="replica_use",
        description=SPECIFIC,
        term_from=s.today,
    )
    assert by_key(s.studio_user)["consent_requests"].count == 0  # a draft waits on no one
    sent = requests.request_send(actor=s.studio_user, scope=scope, request=draft)
    counts, links, _page = page_of(client, s.studio_user)
    assert counts["consent_requests"] == 1
    assert links["consent_requests"] == change("consent_consentrequest", sent)
    assert by_key(s.northgate_user)["consent_requests"].count == 0
    requests.request_withdraw(actor=s.studio_user, scope=scope, request=sent)
    assert by_key(s.studio_user)["consent_requests"].count == 0
