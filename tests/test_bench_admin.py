"""bench.admin on its smallest world: every page it measures answers, each gets its p50 and p95
rows against the SQL it ran, and the run it reviews has something to review."""

import pytest

from bench import admin, common
from compensation import review as reviews
from compensation.models import CompensationRun
from ledger import access

CHANGELISTS = {
    "journal",
    "journal_payments_p3",
    "payables",
    "payables_p40",
    "consents",
    "consents_production",
    "ai_uses",
    "ai_uses_violations",
    "lines",
    "lines_held",
}


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setattr(common, "SCALE", 0.0001)  # 2,000 people, the smallest world
    monkeypatch.setattr(admin, "POSTINGS_WANTED", 10_000)
    monkeypatch.setattr(admin, "REPS", 2)
    monkeypatch.setattr(admin, "WARMUP", 0)
    return admin.build_world()


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_page_is_measured_against_the_sql_it_ran_and_the_run_has_a_review(world):
    results, details = admin.measure(world)

    rows = {(r.scenario, r.metric): r for r in results}
    pages = {(admin.SCENARIO, name) for name in CHANGELISTS}
    pages |= {(admin.PAGES_SCENARIO, "dashboard"), (admin.PAGES_SCENARIO, "run_review")}
    assert set(rows) == {(s, f"{n}_{m}") for s, n in pages for m in ("p95", "p50")}
    for (_scenario, metric), row in rows.items():
        assert row.value > 0 and row.reference_value > 0, metric
        assert row.target == (admin.TARGET if metric.endswith("_p95") else None), metric
        assert len(row.samples or []) == (2 if metric.endswith("_p95") else 0)

    ran = {page.name: (page, queries, statements) for page, queries, statements in details}
    assert set(ran) == CHANGELISTS | {"dashboard", "run_review"}
    for name in CHANGELISTS:
        assert len(ran[name][2]) == 2  # the paginator's count and the page's rows
    for name in ("dashboard", "run_review"):
        page, queries, statements = ran[name]
        # Every query of the page but the request's own (session, user, scope, savepoints).
        assert 0 < len(statements) < queries
        for statement in statements:
            assert not any(t in statement for t in admin.NOT_THE_PAGES), statement
            assert not statement.startswith(("SAVEPOINT", "RELEASE"))
    dashboard = "\n".join(ran["dashboard"][2])
    assert '"consent_aiuse"' in dashboard and '"ledger_posting"' in dashboard
    assert f"= {world['run'].pk}" in "\n".join(ran["run_review"][2])

    # The reviewed run follows an approved one, with differences and items to acknowledge.
    run = world["run"]
    assert run.status == CompensationRun.Status.COMPUTED
    assert run.production.studio == world["studio"]
    review = reviews.review(run, access.scope_for(world["studio_staff"]))

    assert review.compared_with is not None
    assert review.compared_with.status == CompensationRun.Status.APPROVED
    assert review.difference_counts["changed"] > 0
    assert review.people and review.funds
    kinds = {item.kind for item in review.items}
    assert kinds == {"exception", "confirmation"}
    assert {item.code for item in review.items if item.kind == "exception"} == {"rate_missing"}
    # Made once: a second world on the same database (BENCH_ADMIN_REUSE) reviews the same run.
    assert admin.computed_run(world["studio"], run.started_by) == run
