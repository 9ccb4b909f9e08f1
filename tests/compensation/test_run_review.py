"""A run's review before approval (compensation/review.py), for pay and residual runs: totals per
person and per fund, the differences from the last approved run of the period line by line, the
items to acknowledge (exceptions; lines needing confirmation, one item per rule and tier), the
append-only acknowledgements with their notes, approval refused until every item is acknowledged,
two-person approval, and the same through the API and the admin.

The pay scene is the compensation tests' world (tests/compensation/api_helpers.py): Ann, a SAG-AFTRA
day performer at 1000/day (under the minimum), Cy an IATSE grip with no wage classification (a
`rate_missing` exception), under the 2023 agreements whose later figures are derived (tier D,
`needs_confirmation`). The residual scene is test_residual_runs.py's, with its schedule loaded as
tier T so that every residual line needs confirmation."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from compensation import review, runs, services
from compensation.models import (
    CompensationLine,
    CompensationRun,
    Exhibition,
    ResidualLine,
    Timecard,
    WritingCredit,
)
from compensation.models.pay import RunAcknowledgement
from compensation.residuals import schedules as residual_schedules
from core.audit import save_audited
from core.errors import Conflict, DomainError, Forbidden
from ledger.access import SYSTEM_SCOPE, Scope
from ledger.models import Payable
from tests.compensation.api_helpers import (
    RUNS,
    build_world,
    clear_parameter_cache,
    client_for,
    computed_run,
    ok,
    record_day,
)
from tests.compensation.test_residual_runs import FIGURES, PERIOD
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    UserFactory,
    agreement,
    studio_staff,
)
from tests.helpers import acknowledge_all, assert_error, key_client
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

RESIDUAL_RUNS = "/api/v1/residuals/runs/"


@pytest.fixture(autouse=True)
def fresh_parameters():
    clear_parameter_cache()
    yield
    clear_parameter_cache()


@pytest.fixture
def world():
    w = build_world()
    record_day(w.ann, w.maya, day=date(2025, 8, 4))
    record_day(w.ann, w.maya, day=date(2025, 8, 5))
    record_day(w.cy, w.maya, day=date(2025, 8, 4), call="06:00", dismissal="18:00")
    services.delivery_save(
        actor=w.maya,
        engagement=w.abe,
        work_type="screenplay",
        date=date(2025, 8, 5),
        fee="45000.00",
    )
    w.run = computed_run(w.film, w.maya)
    return w


def payable_lines(run, **filters):
    return CompensationLine.objects.filter(run=run, status="payable", **filters)


def total_of(lines) -> Decimal:
    return sum((line.amount for line in lines), Decimal(0))


def acknowledge_api(client, run_id, key, note="Checked against the rate sheet.", base=RUNS):
    return client.post(f"{base}{run_id}/acknowledge/", {"key": key, "note": note}, format="json")


# --- totals ---------------------------------------------------------------------------------


def test_totals_per_person_and_per_fund_add_up_the_payable_lines(world):
    got = review.review(world.run, SYSTEM_SCOPE)
    people = {(t.payee, t.currency): (t.amount, t.lines) for t in got.people}
    for engagement in (world.ann, world.abe):
        lines = payable_lines(world.run, kind="pay", engagement=engagement)
        assert lines.exists()
        name = engagement.person.legal_name
        assert people[name, "USD"] == (total_of(lines), lines.count())
    fringes = payable_lines(world.run, kind="fringe")
    assert fringes.exists()
    funds = {t.payee_id: t.amount for t in got.funds}
    assert set(funds) == set(fringes.values_list("fund", flat=True))
    for fund, amount in funds.items():
        assert amount == total_of(fringes.filter(fund=fund))
    assert all(t.payee_kind == "fund" for t in got.funds)
    # A first run of its period has nothing to compare with.
    assert got.compared_with is None and got.differences == []


def everything_people(world):
    return review.review(world.run, SYSTEM_SCOPE).people


def test_guild_staff_see_the_totals_and_items_of_their_guilds_engagements_only(world):
    sag = Scope(guild_ids=frozenset({world.ann.agreement.guild_id}))
    got = review.review(world.run, sag)
    assert {t.payee for t in everything_people(world)} == {"Ann Example", "Abe Writer"}
    assert {t.payee for t in got.people} == {"Ann Example"}
    everything = review.review(world.run, SYSTEM_SCOPE)
    assert [i.key for i in everything.items if i.kind == "exception"]
    assert not [i for i in got.items if i.kind == "exception"]  # Cy's, under IATSE
    assert {i.key for i in got.items} < {i.key for i in everything.items}


# --- items ----------------------------------------------------------------------------------


def test_items_are_every_exception_and_one_item_per_rule_and_tier_needing_confirmation(world):
    run = CompensationRun.objects.get(pk=world.run.pk)
    got = review.review(run, SYSTEM_SCOPE)
    exceptions = [i for i in got.items if i.kind == "exception"]
    assert [i.key for i in exceptions] == [
        f"exception:{n}:{e['code']}:{e['rule']}" for n, e in enumerate(run.exceptions)
    ]
    assert any(e["code"] == "rate_missing" for e in run.exceptions)
    flagged = [
        line
        for line in CompensationLine.objects.filter(run=run)
        if "needs_confirmation" in line.flags
    ]
    assert flagged
    groups: dict[str, int] = {}
    for line in flagged:
        key = f"confirm:{line.rule}:{line.tier}"
        groups[key] = groups.get(key, 0) + 1
    confirmations = {i.key: i.count for i in got.items if i.kind == "confirmation"}
    assert confirmations == groups
    assert max(groups.values()) > 1, "at least one group stands for several lines"
    assert got.missing == [i.key for i in got.items] and not got.complete


# --- acknowledging and approving --------------------------------------------------------------


def test_approval_is_refused_until_every_item_is_acknowledged(world):
    expected = review.missing(world.run)
    assert len(expected) >= 2
    api = client_for(world.maya)
    body = assert_error(api.post(f"{RUNS}{world.run.pk}/approve/"), 409, "review_incomplete")
    assert body["fields"]["keys"] == expected
    for key in expected[:-1]:
        ok(acknowledge_api(api, world.run.pk, key), 201)
    body = assert_error(api.post(f"{RUNS}{world.run.pk}/approve/"), 409, "review_incomplete")
    assert body["fields"]["keys"] == expected[-1:]
    assert not Payable.objects.filter(production=world.film).exists()
    ok(acknowledge_api(api, world.run.pk, expected[-1]), 201)
    assert ok(api.post(f"{RUNS}{world.run.pk}/approve/"))["status"] == "approved"
    assert Payable.objects.filter(production=world.film).exists()


def test_an_acknowledgement_records_the_note_who_and_when(world):
    key = review.missing(world.run)[0]
    api = client_for(world.maya)
    response = acknowledge_api(api, world.run.pk, key, note="  Rider checked.  ")
    assert_matches_schema(response, "POST", "/api/v1/compensation/runs/{id}/acknowledge/")
    got = ok(response, 201)
    assert (got["key"], got["note"], got["acknowledged_by"]) == (key, "Rider checked.", "maya")
    row = RunAcknowledgement.objects.get(run=world.run, key=key)
    assert (row.note, row.acknowledged_by, row.acknowledged_at is not None) == (
        "Rider checked.",
        world.maya,
        True,
    )
    response = api.get(f"{RUNS}{world.run.pk}/review/")
    assert_matches_schema(response, "GET", "/api/v1/compensation/runs/{id}/review/")
    shown = ok(response)
    item = next(i for i in shown["items"] if i["key"] == key)
    assert item["acknowledgement"]["note"] == "Rider checked."
    assert key not in shown["missing"] and shown["complete"] is False


@pytest.mark.parametrize("note", ["", "   "])
def test_a_note_is_required(world, note):
    key = review.missing(world.run)[0]
    body = assert_error(acknowledge_api(client_for(world.maya), world.run.pk, key, note), 400)
    assert "note" in body["fields"]
    with pytest.raises(DomainError) as refused:
        review.acknowledge(actor=world.maya, run=world.run, key=key, note=note)
    assert refused.value.fields == {"note": "Required."}
    assert not RunAcknowledgement.objects.exists()


def test_only_keys_of_the_review_and_each_once(world):
    api = client_for(world.maya)
    body = assert_error(
        acknowledge_api(api, world.run.pk, "confirm:made.up:T"), 400, "unknown_item"
    )
    assert "key" in body["fields"]
    key = review.missing(world.run)[0]
    ok(acknowledge_api(api, world.run.pk, key), 201)
    assert_error(acknowledge_api(api, world.run.pk, key, "Again."), 409, "already_acknowledged")
    assert RunAcknowledgement.objects.filter(key=key).count() == 1


def test_an_approved_or_superseded_run_takes_no_acknowledgement(world):
    acknowledge_all(world.run, world.maya)
    runs.run_approve(actor=world.maya, run=world.run)
    with pytest.raises(Conflict) as refused:
        review.acknowledge(actor=world.maya, run=world.run, key="x", note="Late.")
    assert refused.value.code == "run_not_computed"


def test_acknowledgements_are_append_only_in_the_database(world):
    [first, *_] = acknowledge_all(world.run, world.maya)
    table = RunAcknowledgement._meta.db_table
    for sql in (f"UPDATE {table} SET note = 'edited'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError) as refused, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
        assert "append_only" in str(refused.value)
    first.refresh_from_db()
    assert first.note == "Reviewed: approved as computed."


@pytest.mark.parametrize("role", ["sag", "iatse", "studio_b"])
def test_guild_staff_and_other_studios_cannot_acknowledge(world, role):
    user = {"sag": world.sam, "iatse": world.ian, "studio_b": world.nora}[role]
    key = review.missing(world.run)[0]
    response = acknowledge_api(client_for(user), world.run.pk, key)
    if role == "studio_b":
        assert_error(response, 404, "not_found")  # another studio's run does not exist for it
    else:
        assert_error(response, 403, "permission_denied")
    with pytest.raises(Forbidden):
        review.acknowledge(actor=user, run=world.run, key=key, note="Seen.")
    assert not RunAcknowledgement.objects.exists()


def test_payroll_keys_reach_neither_the_review_nor_acknowledgements(world):
    api = key_client(world.meridian_key)
    assert_error(api.get(f"{RUNS}{world.run.pk}/review/"), 403)
    key = review.missing(world.run)[0]
    assert_error(acknowledge_api(api, world.run.pk, key), 403)
    assert not RunAcknowledgement.objects.exists()


def test_the_review_is_404_outside_the_scope(world):
    other = client_for(world.nora)
    assert_error(other.get(f"{RUNS}{world.run.pk}/review/"), 404, "not_found")
    assert_error(other.get(f"{RUNS}987654321/review/"), 404, "not_found")


# --- two-person approval ----------------------------------------------------------------------


def test_two_person_approval_refuses_who_started_the_run(world, settings):
    settings.RUN_TWO_PERSON_APPROVAL = True
    acknowledge_all(world.run, world.maya)
    body = assert_error(
        client_for(world.maya).post(f"{RUNS}{world.run.pk}/approve/"), 403, "same_person"
    )
    assert "started" in body["message"]
    world.run.refresh_from_db()
    assert world.run.status == "computed"
    colleague = studio_staff(world.meridian, "mo")
    assert ok(client_for(colleague).post(f"{RUNS}{world.run.pk}/approve/"))["status"] == "approved"
    world.run.refresh_from_db()
    assert (world.run.started_by, world.run.approved_by) == (world.maya, colleague)


def test_without_the_setting_who_started_the_run_may_approve_it(world, settings):
    settings.RUN_TWO_PERSON_APPROVAL = False
    acknowledge_all(world.run, world.maya)
    approved = runs.run_approve(actor=world.maya, run=world.run)
    assert approved.approved_by == world.maya


# --- a rerun's differences --------------------------------------------------------------------


def owed(run, d) -> Decimal:
    """What the run's payable lines of a difference's key add up to."""
    lines = payable_lines(run, engagement_id=d.engagement, rule=d.rule, date=d.on, fund=d.fund)
    return total_of(lines.filter(episode=d.detail))


def test_a_reruns_review_lists_the_lines_added_removed_and_changed(world):
    acknowledge_all(world.run, world.maya)
    runs.run_approve(actor=world.maya, run=world.run)
    first = world.run
    # Ann's 5 August card moves to the 6th (its lines removed, others added); her 4 August day
    # ends later (its overtime changes, and so does her P&H contribution).
    card = Timecard.objects.get(engagement=world.ann, date=date(2025, 8, 5))
    services.timecard_save(
        actor=world.maya, engagement=world.ann, date=date(2025, 8, 6), instance=card
    )
    record_day(world.ann, world.maya, day=date(2025, 8, 4), dismissal="21:00")
    rerun = computed_run(world.film, world.maya)
    got = review.review(rerun, SYSTEM_SCOPE)
    assert got.compared_with == first
    changes = {(d.change, d.rule, d.on) for d in got.differences}
    aug4, aug5, aug6 = date(2025, 8, 4), date(2025, 8, 5), date(2025, 8, 6)
    assert {
        ("removed", "sag.pay.day", aug5),
        ("removed", "sag.pay.overtime", aug5),
        ("added", "sag.pay.day", aug6),
        ("added", "sag.pay.overtime", aug6),
        ("changed", "sag.pay.overtime", aug4),
    } <= changes
    assert ("changed", "sag.pay.day", aug4) not in changes  # the same day pay: no difference
    assert any(d.change == "changed" and d.fund == "sag-aftra-ph" for d in got.differences)
    for d in got.differences:
        assert d.engagement == world.ann.pk and "Ann Example" in d.payee
        assert d.before == (None if d.change == "added" else owed(first, d))
        assert d.after == (None if d.change == "removed" else owed(rerun, d))
        assert d.before != d.after
    counts = got.difference_counts
    assert counts == {
        c: sum(1 for d in got.differences if d.change == c) for c in ("added", "removed", "changed")
    }
    response = client_for(world.maya).get(f"{RUNS}{rerun.pk}/review/")
    assert_matches_schema(response, "GET", "/api/v1/compensation/runs/{id}/review/")
    shown = ok(response)
    assert shown["compared_with"] == first.pk
    assert shown["difference_counts"] == counts and shown["differences_truncated"] is False
    removed = next(d for d in got.differences if (d.change, d.rule) == ("removed", "sag.pay.day"))
    row = next(
        d for d in shown["differences"] if (d["change"], d["rule"]) == ("removed", "sag.pay.day")
    )
    assert (row["date"], row["before"], row["after"], row["delta"]) == (
        "2025-08-05",
        f"{removed.before:.2f}",
        None,
        f"{-removed.before:.2f}",
    )


def test_a_rerun_with_nothing_changed_has_no_differences(world):
    acknowledge_all(world.run, world.maya)
    runs.run_approve(actor=world.maya, run=world.run)
    rerun = computed_run(world.film, world.maya)
    got = review.review(rerun, SYSTEM_SCOPE)
    assert got.compared_with == world.run
    assert got.differences == [] and got.difference_counts == {
        "added": 0,
        "removed": 0,
        "changed": 0,
    }
    # Its items are its own: the first run's acknowledgements do not carry over.
    assert got.missing == [i.key for i in got.items] and got.missing
    assert [i.key for i in got.items] == [i.key for i in review.items(world.run, SYSTEM_SCOPE)]


# --- residual runs ----------------------------------------------------------------------------


@pytest.fixture
def residual_world(django_capture_on_commit_callbacks):
    studio_user = UserFactory(username="ba-lead")
    production = ProductionFactory(
        title="Night Harbor", kind="television", episode_minutes=60, start_date=date(2026, 5, 4)
    )
    staff = studio_staff(production.studio, "rita")
    writer = EngagementFactory(
        production=production,
        person=PersonFactory(legal_name="Wren Writer"),
        agreement=agreement("wga-mba-2026"),
        classification="writer",
        rate_unit="flat",
        start_date=date(2026, 5, 4),
    )
    ann = EngagementFactory(
        production=production,
        person=PersonFactory(legal_name="Ann Actor"),
        agreement=agreement("sag-tvth-2026"),
        start_date=date(2026, 5, 4),
    )
    WritingCredit.objects.create(engagement=writer, episode="101", credit="written_by")
    Timecard.objects.create(
        engagement=ann,
        date=date(2026, 5, 11),
        first_call="07:00",
        dismissal="15:00",
        episode="101",
        elapsed_hours=Decimal("8.0"),
        work_hours=Decimal("8.0"),
    )
    exhibition = Exhibition.objects.create(
        production=production,
        episode="101",
        work_type="episode",
        running_minutes=60,
        market="hbsvod",
        territory="worldwide",
        service="Streamer",
        subscriber_tier="tier_2",
        exhibition_year=1,
        period_from=date(2026, 7, 1),
        period_to=date(2027, 6, 30),
    )
    figures = {k: v for k, v in FIGURES.items() if k not in ("name", "source", "tier", "currency")}
    for code in ("wga-mba-2026", "sag-tvth-2026"):
        residual_schedules.schedule_load(
            actor=studio_user,
            agreement=agreement(code),
            name="Unverified schedule",
            source="test figures",
            effective_from=date(2026, 5, 2),
            file_name="schedule.json",
            file_format="json",
            content=json.dumps(figures),
            tier="T",
        )

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            started = runs.residual_run_start(
                actor=staff, production=production, period_from=PERIOD[0], period_to=PERIOD[1]
            )
        started.refresh_from_db()
        assert started.status == "computed", (started.status, started.error)
        return started

    return {"staff": staff, "writer": writer, "ann": ann, "exhibition": exhibition, "run": run}


def test_a_residual_runs_review_totals_and_groups_what_needs_confirmation(residual_world):
    run = residual_world["run"]()
    got = review.review(run, SYSTEM_SCOPE)
    lines = ResidualLine.objects.filter(run=run)
    people = {t.payee: t.amount for t in got.people}
    assert people == {
        name: total_of(lines.filter(fund="", engagement=residual_world[who]))
        for name, who in (("Wren Writer", "writer"), ("Ann Actor", "ann"))
    }
    funds = {t.payee_id: t.amount for t in got.funds}
    assert funds and funds == {
        fund: total_of(lines.filter(fund=fund))
        for fund in set(lines.exclude(fund="").values_list("fund", flat=True))
    }
    # The residual lines rest on the tier T schedule (the P&H on them on shipped figures): one
    # item per rule and tier of the flagged lines, with its count.
    flagged = [line for line in lines if "needs_confirmation" in line.flags]
    assert {line.rule for line in flagged} >= {"wga.residual.hbsvod", "sag.residual.hbsvod"}
    expected: dict[str, int] = {}
    for line in flagged:
        key = f"confirm:{line.rule}:{line.tier}"
        expected[key] = expected.get(key, 0) + 1
    assert {i.key: i.count for i in got.items if i.kind == "confirmation"} == expected
    assert max(expected.values()) > 1  # domestic and foreign: two lines, one item
    assert [i.key for i in got.items if i.kind == "exception"] == [
        f"exception:{n}:{e['code']}:{e['rule']}" for n, e in enumerate(run.exceptions)
    ]
    assert sum(expected.values()) > len(expected)


def test_a_residual_run_is_approved_once_its_items_are_acknowledged(residual_world):
    run = residual_world["run"]()
    api = client_for(residual_world["staff"])
    response = api.get(f"{RESIDUAL_RUNS}{run.pk}/review/")
    assert_matches_schema(response, "GET", "/api/v1/residuals/runs/{id}/review/")
    shown = ok(response)
    assert shown["kind"] == "residuals" and shown["missing"]
    body = assert_error(api.post(f"{RESIDUAL_RUNS}{run.pk}/approve/"), 409, "review_incomplete")
    assert body["fields"]["keys"] == shown["missing"]
    for key in shown["missing"]:
        ok(
            acknowledge_api(api, run.pk, key, "Schedule confirmed by the guild.", RESIDUAL_RUNS),
            201,
        )
    assert ok(api.post(f"{RESIDUAL_RUNS}{run.pk}/approve/"))["status"] == "approved"


def test_a_residual_reruns_review_shows_the_changed_lines(residual_world):
    run = residual_world["run"]()
    acknowledge_all(run)
    runs.run_approve(actor=residual_world["staff"], run=run)
    exhibition = residual_world["exhibition"]
    exhibition.subscriber_tier = "tier_1"
    save_audited(exhibition, actor=residual_world["staff"])
    rerun = residual_world["run"]()
    got = review.review(rerun, SYSTEM_SCOPE)
    assert got.compared_with == run
    assert got.difference_counts["changed"] > 0
    assert got.difference_counts["added"] == got.difference_counts["removed"] == 0
    for d in got.differences:
        assert d.exhibition == exhibition.pk and d.on is None
        assert d.after < d.before  # tier_1's subscriber factor is 0.5, tier_2's 1
    writer = next(
        d for d in got.differences if d.engagement == residual_world["writer"].pk and not d.fund
    )
    assert writer.payee == "Wren Writer" and writer.detail in ("domestic", "foreign")


# --- the admin --------------------------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_review_page_acknowledges_and_then_offers_approval(world):
    client = admin_client(world.maya)
    change = reverse("admin:compensation_compensationrun_change", args=[world.run.pk])
    review_url = reverse("admin:compensation_compensationrun_review", args=[world.run.pk])
    html = client.get(change).content.decode()
    assert review_url in html
    assert 'id="approve-run-blocked" disabled' in html and 'id="approve-run"' not in html
    n = len(review.missing(world.run))
    assert f"{n} items of the review need an acknowledgement" in html
    response = client.get(review_url)
    assert response.status_code == 200
    html = response.content.decode()
    ann = total_of(payable_lines(world.run, kind="pay", engagement=world.ann))
    assert f"{ann:,.2f} USD" in html and "Ann Example" in html
    assert html.count('class="acknowledge-item"') == n
    assert html.count(">Acknowledge</button>") == n
    acknowledge = reverse("admin:compensation_compensationrun_acknowledge", args=[world.run.pk])
    keys = review.missing(world.run)
    blank = client.post(acknowledge, {"key": keys[0], "note": " "}, follow=True)
    assert "Required." in blank.content.decode()
    assert not RunAcknowledgement.objects.exists()
    for key in keys:
        done = client.post(acknowledge, {"key": key, "note": "Checked."}, follow=True)
        shown = [str(m) for m in done.context["messages"]]
        assert f"{key}: acknowledged." in shown, shown
    html = client.get(review_url).content.decode()
    assert 'class="acknowledge-item"' not in html and html.count("Checked.") == n
    html = client.get(change).content.decode()
    assert 'id="approve-run"' in html and "approve-run-blocked" not in html
    approve = reverse("admin:compensation_compensationrun_approve", args=[world.run.pk])
    client.post(approve)
    world.run.refresh_from_db()
    assert world.run.status == "approved"


def test_the_admin_approve_button_refuses_an_unreviewed_run(world):
    client = admin_client(world.maya)
    approve = reverse("admin:compensation_compensationrun_approve", args=[world.run.pk])
    response = client.post(approve, follow=True)
    assert "need an acknowledgement" in response.content.decode()
    world.run.refresh_from_db()
    assert world.run.status == "computed"


def test_guild_staff_read_the_admin_review_without_acknowledging(world):
    client = admin_client(world.sam)
    review_url = reverse("admin:compensation_compensationrun_review", args=[world.run.pk])
    html = client.get(review_url).content.decode()
    assert "Ann Example" in html and "Abe Writer" not in html
    assert 'class="acknowledge-item"' not in html
    acknowledge = reverse("admin:compensation_compensationrun_acknowledge", args=[world.run.pk])
    key = next(k for k in review.missing(world.run) if k.startswith("confirm:"))
    client.post(acknowledge, {"key": key, "note": "Seen."})
    assert not RunAcknowledgement.objects.exists()


def test_the_admin_review_of_a_residual_run(residual_world):
    run = residual_world["run"]()
    client = admin_client(residual_world["staff"])
    review_url = reverse("admin:compensation_residualrun_review", args=[run.pk])
    html = client.get(review_url).content.decode()
    assert "Wren Writer" in html and "Totals per fund" in html
    keys = review.missing(run)
    assert html.count('class="acknowledge-item"') == len(keys)
    acknowledge = reverse("admin:compensation_residualrun_acknowledge", args=[run.pk])
    for key in keys:
        client.post(acknowledge, {"key": key, "note": "Guild schedule confirmed."})
    change = reverse("admin:compensation_residualrun_change", args=[run.pk])
    assert 'id="approve-run"' in client.get(change).content.decode()
    client.post(reverse("admin:compensation_residualrun_approve", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "approved"
