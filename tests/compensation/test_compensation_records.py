"""What compensation keeps, and how: rate sheets, computed lines, what approvals posted and hold
resolutions are append-only in the database itself (any write path: raw SQL or the ORM); work
records and runs keep history with the acting user (staff, or the system user for the task);
a rerun writes new lines and leaves the earlier run's lines as they were; a failed approval or
computation leaves nothing half-written; the parameters in force follow every loaded sheet."""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from compensation import runs, selectors, services
from compensation.models import (
    CompensationLine,
    CompensationRun,
    HoldResolution,
    RateSheet,
    RateSheetValue,
    RunPosting,
    Timecard,
)
from core.audit import HistoryBypassError
from ledger.models import JournalTransaction, Payable
from tests.compensation.api_helpers import (
    HOLDS,
    RUNS,
    TIMECARDS,
    approve,
    build_world,
    clear_parameter_cache,
    computed_run,
    counts,
    ok,
    quote_body,
    record_day,
    record_violation,
    start_run,
)
from tests.helpers import acknowledge_all, assert_error

pytestmark = pytest.mark.django_db

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
APPEND_ONLY = {
    "compensation_ratesheet": ("name", RateSheet),
    "compensation_ratesheetvalue": ("value", RateSheetValue),
    "compensation_compensationline": ("amount", CompensationLine),
    "compensation_runposting": ("amount", RunPosting),
    "compensation_holdresolution": ("reason", HoldResolution),
}


@pytest.fixture(autouse=True)
def fresh_parameters():
    clear_parameter_cache()
    yield
    clear_parameter_cache()


@pytest.fixture
def world():
    return build_world()


def run_sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def refused(sql, params=None) -> str:
    with pytest.raises(DatabaseError) as excinfo, transaction.atomic():
        run_sql(sql, params)
    return str(excinfo.value)


def load_sag_sheet(world, text="parameter,from,value\nsag.minimum.day_performer,2025-08-01,1300\n"):
    return services.rate_sheet_load(
        actor=world.sam,
        agreement=world.ann.agreement,
        name="SAG-AFTRA rates 2025-26",
        source="SAG-AFTRA rate sheet",
        file_name="rates.csv",
        content=text,
        file_format="csv",
    )


@pytest.fixture
def approved(world):
    """Every append-only table holds rows: a loaded sheet, an approved run with its lines and
    postings, and a resolved violation."""
    load_sag_sheet(world)
    record_day(world.ann, world.maya)
    use = record_violation(world.ann)
    services.hold_resolve(actor=world.maya, ai_use=use, decision="void", reason="Recorded twice.")
    run = computed_run(world.film, world.maya)
    acknowledge_all(run)
    runs.run_approve(actor=world.maya, run=run)
    for _column, model in APPEND_ONLY.values():
        assert model.objects.exists(), model
    return run


def snapshot(table):
    column = APPEND_ONLY[table][0]
    return sorted(map(tuple, run_sql(f"SELECT id, {column} FROM {table}")))


# --- append-only in the database -------------------------------------------------------------


@pytest.mark.parametrize("table", list(APPEND_ONLY))
def test_raw_update_is_refused(approved, table):
    column = APPEND_ONLY[table][0]
    before = snapshot(table)
    assert "append_only" in refused(f"UPDATE {table} SET {column} = {column}")
    (row_id,) = run_sql(f"SELECT id FROM {table} ORDER BY id LIMIT 1")[0]
    value = "tampered" if column in ("name", "reason") else "1.00"
    refused(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, row_id])
    assert snapshot(table) == before


@pytest.mark.parametrize("table", list(APPEND_ONLY))
def test_raw_delete_is_refused(approved, table):
    model = APPEND_ONLY[table][1]
    count = model.objects.count()
    assert "append_only" in refused(f"DELETE FROM {table}")
    assert model.objects.count() == count


def test_the_orm_cannot_change_posted_lines_either(approved):
    line = CompensationLine.objects.filter(run=approved, kind="pay").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        CompensationLine.objects.filter(pk=line.pk).update(amount=Decimal("1.00"))
    line.amount = Decimal("1.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        line.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        line.delete()
    posting = RunPosting.objects.filter(run=approved).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        posting.delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        RateSheetValue.objects.update(value=Decimal("1"))
    line.refresh_from_db()
    assert line.amount != Decimal("1.00")


def test_an_attempted_change_over_the_api_is_a_409_not_a_500(approved, world):
    """The trigger's refusal is an integrity error; the API's handler answers 409 for it."""
    from core.errors import api_exception_handler

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        run_sql("DELETE FROM compensation_compensationline")
    response = api_exception_handler(excinfo.value, {})
    assert response.status_code == 409 and response.data["code"] == "conflict"


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL")
@pytest.mark.parametrize("table", list(APPEND_ONLY))
def test_truncate_is_refused_on_postgres(approved, table):
    run_sql("SET guild_ledger.maintenance = 'off'")
    try:
        count = APPEND_ONLY[table][1].objects.count()
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")
        assert "append_only: TRUNCATE" in refused(f"TRUNCATE {table} CASCADE")
        assert APPEND_ONLY[table][1].objects.count() == count
    finally:
        run_sql("SET guild_ledger.maintenance = 'on'")


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL")
def test_append_only_triggers_fire_always_on_postgres():
    rows = run_sql(
        "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relname LIKE 'compensation\\_%%'"
    )
    enabled = {(table, name): state for table, name, state in rows}
    for table in APPEND_ONLY:
        for name in (f"{table}_append_only", f"{table}_no_truncate"):
            assert enabled.get((table, name)) == "A", (table, name, enabled)
    mutable = {"compensation_timecard", "compensation_wgadelivery", "compensation_compensationrun"}
    assert not {t for t, _n in enabled} & mutable


def test_work_records_and_runs_are_not_append_only(world):
    card = record_day(world.ann, world.maya)
    services.timecard_save(
        actor=world.root,
        engagement=world.ann,
        date=card.date,
        instance=card,
        first_call=card.first_call,
        dismissal=card.dismissal.replace(hour=18, minute=0),
    )
    card.refresh_from_db()
    assert card.dismissal.hour == 18 and card.work_hours == Decimal("10.5")
    assert [h.history_user for h in card.history.all()] == [world.root, world.maya]
    with pytest.raises(HistoryBypassError):
        Timecard.objects.filter(pk=card.pk).update(episode="x")


# --- history with the acting user ------------------------------------------------------------


def test_a_runs_history_names_who_started_computed_and_approved_it(
    world, django_capture_on_commit_callbacks
):
    record_day(world.ann, world.maya)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    approve(world.client, run["id"])
    rows = CompensationRun.history.filter(id=run["id"]).order_by("history_id")
    trail = [(h.status, h.history_user.username) for h in rows]
    assert trail == [
        ("queued", "maya"),
        ("running", settings.SYSTEM_USERNAME),
        ("computed", settings.SYSTEM_USERNAME),
        ("approved", "maya"),
    ]


def test_a_timecard_correction_over_the_api_records_the_user(world):
    card = record_day(world.ann, world.maya)
    ok(world.client.patch(f"{TIMECARDS}{card.pk}/", {"episode": "101"}, format="json"))
    latest = card.history.first()
    assert (latest.history_type, latest.episode, latest.history_user) == ("~", "101", world.maya)


# --- reruns keep what was computed before ----------------------------------------------------


def test_a_rerun_writes_new_lines_and_leaves_the_earlier_ones(world):
    card = record_day(world.ann, world.maya)
    first = computed_run(world.film, world.maya)
    acknowledge_all(first)
    runs.run_approve(actor=world.maya, run=first)
    before = list(first.lines.order_by("id").values_list("id", "rule", "amount", "status"))
    services.timecard_save(
        actor=world.maya,
        engagement=world.ann,
        date=card.date,
        instance=card,
        first_call=card.first_call,
        dismissal=card.dismissal.replace(hour=19, minute=0),
    )
    second = computed_run(world.film, world.maya)
    assert list(first.lines.order_by("id").values_list("id", "rule", "amount", "status")) == before
    assert set(second.lines.values_list("id", flat=True)).isdisjoint({r[0] for r in before})
    first.refresh_from_db()
    assert first.status == "approved"
    # The difference is posted against the first run's postings, which stay as they were.
    first_postings = list(RunPosting.objects.filter(run=first).values_list("key", "amount"))
    acknowledge_all(second)
    runs.run_approve(actor=world.maya, run=second)
    assert list(RunPosting.objects.filter(run=first).values_list("key", "amount")) == (
        first_postings
    )
    totals = {}
    for posting in RunPosting.objects.filter(run__in=[first, second]):
        totals[posting.key] = totals.get(posting.key, 0) + posting.amount
    latest = {}
    for line in second.lines.filter(status="payable"):
        key = line.fund or line.rule
        latest[key] = latest.get(key, 0) + line.amount
    assert totals == latest, "what was posted in total is what the latest run owes"


def test_a_redelivered_computation_leaves_a_computed_run_alone(world):
    record_day(world.ann, world.maya)
    run = computed_run(world.film, world.maya)
    lines = run.lines.count()
    assert runs.run_compute(run.pk) == "computed"
    assert run.lines.count() == lines


# --- nothing half-written --------------------------------------------------------------------


def test_a_failed_approval_posts_nothing(world, monkeypatch):
    record_day(world.ann, world.maya)
    run = computed_run(world.film, world.maya)
    before = counts()

    def boom(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(RunPosting.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        acknowledge_all(run)
        runs.run_approve(actor=world.maya, run=run)
    assert counts() == before
    run.refresh_from_db()
    assert run.status == "computed" and run.approved_by is None


def test_a_failed_computation_is_marked_failed_with_no_lines(world, monkeypatch):
    record_day(world.ann, world.maya)

    def boom(run):
        raise ValueError("a rule blew up")

    monkeypatch.setattr(runs, "_compute", boom)
    run = runs.run_start(
        actor=world.maya,
        production=world.film,
        period_from=date(2025, 8, 4),
        period_to=date(2025, 8, 10),
        due_date=date(2025, 8, 20),
    )
    with pytest.raises(ValueError):
        runs.run_compute(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "a rule blew up" in run.error
    assert not run.lines.exists()
    monkeypatch.undo()
    # A failed run does not block the period.
    assert computed_run(world.film, world.maya).status == "computed"


def test_a_refused_sheet_keeps_no_row_and_no_version(world):
    with pytest.raises(Exception):  # noqa: B017  (DomainError; nothing to catch more narrowly)
        load_sag_sheet(world, "parameter,from,value\nsag.minimum.day_performer,2025-08-01,x\n")
    assert not RateSheet.objects.exists() and not RateSheetValue.objects.exists()
    assert load_sag_sheet(world).version == 1


def test_a_resolution_refused_because_a_run_is_in_progress_writes_nothing(
    world, django_capture_on_commit_callbacks
):
    record_day(world.ann, world.maya)
    use = record_violation(world.ann)
    run = start_run(world.client, django_capture_on_commit_callbacks, world.film)
    approve(world.client, run["id"])
    # A rerun of the period is queued (its worker has not picked it up yet).
    with django_capture_on_commit_callbacks(execute=False):
        queued = ok(
            world.client.post(
                RUNS,
                {
                    "production": world.film.pk,
                    "period_from": "2025-08-04",
                    "period_to": "2025-08-10",
                    "due_date": "2025-08-20",
                },
                format="json",
            ),
            202,
        )
    assert CompensationRun.objects.get(pk=queued["id"]).status == "queued"
    before = counts()
    response = world.client.post(
        HOLDS, {"ai_use": use.pk, "decision": "release", "reason": "Rider found."}, format="json"
    )
    assert_error(response, 409, "run_in_progress")
    assert counts() == before, "a refused request writes nothing"


# --- the parameters in force -----------------------------------------------------------------


def _sheet_row(world, pk, value, start=date(2025, 8, 1), until=date(2026, 6, 30)):
    sheet = RateSheet.objects.create(
        pk=pk,
        agreement=world.ann.agreement,
        name=f"Sheet {pk}",
        version=1,
        source="test",
        file_name="rates.csv",
        file_format="csv",
        content="",
        sha256="0" * 64,
        loaded_by=world.sam,
        loaded_at=timezone.now(),
    )
    RateSheetValue.objects.create(
        sheet=sheet,
        parameter="sag.minimum.day_performer",
        effective_from=start,
        until=until,
        value=Decimal(value),
        tier="P",
        source="test",
    )
    return sheet


def _minimum_on(params, day="2025-08-15"):
    return params.get("sag.minimum.day_performer", date.fromisoformat(day)).value


def test_the_parameters_follow_each_loaded_sheet(world):
    assert _minimum_on(selectors.current_parameters()) == 1246
    load_sag_sheet(world)
    assert _minimum_on(selectors.current_parameters()) == 1300
    load_sag_sheet(world, "parameter,from,value\nsag.minimum.day_performer,2025-08-01,1310\n")
    assert _minimum_on(selectors.current_parameters()) == 1310


def test_a_sheet_committed_out_of_id_order_is_not_missed(world):
    _sheet_row(world, 900002, "1300", until=date(2025, 8, 31))  # committed first
    assert _minimum_on(selectors.current_parameters()) == 1300
    # An earlier load (a lower id) of a sheet for later dates, committed afterwards.
    _sheet_row(world, 900001, "1400", start=date(2025, 9, 1))
    fresh = selectors.shipped().with_overrides(selectors.sheet_overrides())
    assert _minimum_on(fresh, "2025-09-15") == 1400
    assert _minimum_on(selectors.current_parameters(), "2025-09-15") == 1400


def test_a_quote_uses_the_loaded_sheet_immediately(world):
    from compensation.rules.quote import quote

    load_sag_sheet(world)
    out = quote(quote_body("2025-08-15"), selectors.current_parameters()).as_dict()
    assert out["lines"][0]["amount"] == "1300.00"
    assert JournalTransaction.objects.count() == Payable.objects.count() == 0
