"""Consent records are evidence: consents, their events and the AI-use register are append-only in
the database itself (consent migration 0002), on SQLite and PostgreSQL alike; every record written
over the API has a history row naming the acting user; and `manage.py verify_evidence` detects an
evidence file changed or deleted after upload."""

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from rest_framework.test import APIClient

from consent.models import AiUse, Consent, ConsentEvent, StrikePeriod, UnionNotice, WgaDisclosure
from consent.services import ai_use_record, consent_revoke, consent_suspend
from ledger.access import Scope
from tests.consent.helpers import (
    EVIDENCE,
    EVIDENCE_SHA256,
    at,
    consent_body,
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
    evidence_file,
    grant_consent,
    guild_staff,
    studio_staff,
)

pytestmark = pytest.mark.django_db

APPEND_ONLY = {
    "consent_consent": Consent,
    "consent_consentevent": ConsentEvent,
    "consent_aiuse": AiUse,
}
# A column of each table to "change" (to itself, or to a new value): any UPDATE is refused.
SOME_COLUMN = {
    "consent_consent": "description",
    "consent_consentevent": "reason",
    "consent_aiuse": "status",
}
NEW_VALUE = {
    "consent_consent": "any and all uses in perpetuity",
    "consent_consentevent": "never mind",
    "consent_aiuse": "allowed",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def run_sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def refused(sql, params=None) -> str:
    """Run `sql` in a savepoint; the database must refuse it. Returns the error message."""
    with pytest.raises((IntegrityError, DatabaseError)) as excinfo, transaction.atomic():
        run_sql(sql, params)
    return str(excinfo.value)


def rows_of(table):
    column = SOME_COLUMN[table]
    return sorted(map(tuple, run_sql(f"SELECT id, {column} FROM {table}")))


@pytest.fixture
def records():
    """At least one row in each append-only table: a consent, a suspension of it, and a use the
    register recorded as a violation (a replica use no consent covers)."""
    recorder = UserFactory(username="recorder")
    engagement = EngagementFactory()
    consent = grant_consent(engagement, actor=recorder)
    consent_suspend(actor=recorder, consent=consent, reason="Dispute", at=at(2025, 6, 12))
    use = ai_use_record(
        actor=recorder,
        scope=Scope(superuser=True),
        production=engagement.production,
        person=engagement.person,
        kind="replica_use",
        starts_at=at(2025, 6, 10, 9),
        days=1,
        description="Replica in the finale",
    )
    assert use.status == "violation"
    for model in APPEND_ONLY.values():
        assert model.objects.exists(), model
    return {"consent": consent, "use": use, "recorder": recorder}


# --- the database refuses changes -------------------------------------------------------------


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_raw_update_of_every_row_is_refused(records, table):
    column = SOME_COLUMN[table]
    before = rows_of(table)
    message = refused(f"UPDATE {table} SET {column} = {column}")
    assert "append_only" in message
    assert rows_of(table) == before


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_raw_update_of_one_row_is_refused(records, table):
    (row_id,) = run_sql(f"SELECT id FROM {table} ORDER BY id LIMIT 1")[0]
    before = rows_of(table)
    message = refused(
        f"UPDATE {table} SET {SOME_COLUMN[table]} = %s WHERE id = %s", [NEW_VALUE[table], row_id]
    )
    assert "append_only" in message
    assert rows_of(table) == before


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_raw_delete_is_refused(records, table):
    model = APPEND_ONLY[table]
    count = model.objects.count()
    (row_id,) = run_sql(f"SELECT id FROM {table} ORDER BY id LIMIT 1")[0]
    assert "append_only" in refused(f"DELETE FROM {table} WHERE id = %s", [row_id])
    assert "append_only" in refused(f"DELETE FROM {table}")
    assert model.objects.count() == count
    assert model.objects.filter(pk=row_id).exists()


def test_the_evidence_hash_cannot_be_rewritten_to_match_a_changed_file(records):
    consent = records["consent"]
    forged = hashlib.sha256(b"forged").hexdigest()
    refused("UPDATE consent_consent SET evidence_sha256 = %s WHERE id = %s", [forged, consent.pk])
    assert Consent.objects.get(pk=consent.pk).evidence_sha256 == consent.evidence_sha256


def test_the_orm_cannot_change_or_delete_them_either(records):
    consent, use = records["consent"], records["use"]
    event = ConsentEvent.objects.get(consent=consent)
    for obj, field, value in [
        (consent, "description", "any and all uses"),
        (event, "reason", "never mind"),
        (use, "status", "allowed"),
    ]:
        setattr(obj, field, value)
        with pytest.raises((IntegrityError, DatabaseError)) as excinfo, transaction.atomic():
            obj.save()
        assert "append_only" in str(excinfo.value)
        if obj is not consent:  # a consent's events PROTECT it before any SQL is sent
            with pytest.raises((IntegrityError, DatabaseError)) as excinfo, transaction.atomic():
                type(obj).objects.filter(pk=obj.pk).delete()
            assert "append_only" in str(excinfo.value)
        assert type(obj).objects.filter(pk=obj.pk).exists()
    assert Consent.objects.get(pk=consent.pk).description != "any and all uses"
    assert AiUse.objects.get(pk=use.pk).status == "violation"


def test_inserts_stay_allowed(records):
    """The triggers refuse changes, not new records: the register keeps growing."""
    consent = records["consent"]
    count = ConsentEvent.objects.count()
    consent_revoke(
        actor=records["recorder"], consent=consent, reason="Withdrawn", at=at(2025, 7, 1)
    )
    assert ConsentEvent.objects.count() == count + 1


@pytest.mark.postgres
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_truncate_is_refused_on_postgres(records, table):
    run_sql("SET guild_ledger.maintenance = 'off'")
    try:
        count = APPEND_ONLY[table].objects.count()
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")
        message = refused(f"TRUNCATE {table} CASCADE")
        assert "append_only: TRUNCATE" in message
        assert APPEND_ONLY[table].objects.count() == count
    finally:
        run_sql("SET guild_ledger.maintenance = 'on'")


@pytest.mark.postgres
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_update_and_delete_refused_under_replica_role(records, table):
    """ENABLE ALWAYS: the triggers fire even where replication turns ordinary triggers off."""
    run_sql("SET session_replication_role = replica")
    try:
        before = rows_of(table)
        refused(f"UPDATE {table} SET {SOME_COLUMN[table]} = {SOME_COLUMN[table]}")
        refused(f"DELETE FROM {table}")
        assert rows_of(table) == before
    finally:
        run_sql("SET session_replication_role = DEFAULT")


def test_the_triggers_exist_on_this_engine():
    if connection.vendor == "postgresql":
        names = {
            row[0]
            for row in run_sql(
                "SELECT tgname FROM pg_trigger WHERE tgrelid::regclass::text = ANY(%s)",
                [list(APPEND_ONLY)],
            )
        }
        expected = {
            f"{t}_{suffix}" for t in APPEND_ONLY for suffix in ("append_only", "no_truncate")
        }
    else:
        names = {
            row[0]
            for row in run_sql(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name IN (%s, %s, %s)",
                list(APPEND_ONLY),
            )
        }
        expected = {f"{t}_no_{op}" for t in APPEND_ONLY for op in ("update", "delete")}
    assert expected <= names


# --- history names the acting user ------------------------------------------------------------


@pytest.fixture
def world():
    studio = StudioFactory(slug="meridian")
    production = ProductionFactory(studio=studio, title="The Long Light")
    ProductionAgreementFactory(production=production, agreement=agreement("wga-mba-2023"))
    ann = EngagementFactory(production=production, person=PersonFactory(registered_by=studio))
    abe = EngagementFactory(
        production=production,
        person=PersonFactory(registered_by=studio),
        agreement=agreement("wga-mba-2023"),
        classification="writer",
        rate_unit="week",
    )
    maya = studio_staff(studio, "maya")
    sally = guild_staff("sag-aftra", "sally")
    client, sag_client = APIClient(), APIClient()
    client.force_authenticate(maya)
    sag_client.force_authenticate(sally)
    return {
        "production": production,
        "ann": ann.person,
        "abe": abe.person,
        "maya": maya,
        "sally": sally,
        "client": client,
        "sag_client": sag_client,
    }


def created(response):
    assert response.status_code in (200, 201), response.content
    return response.json()


def only_history(model, pk):
    rows = list(model.history.filter(id=pk))
    return [(row.history_type, row.history_user) for row in rows]


def test_history_names_the_user_for_every_record_written_over_the_api(world):
    client, maya = world["client"], world["maya"]
    ann, production = world["ann"], world["production"]

    consent = created(
        client.post("/api/v1/consents/", consent_body(ann, production), format="multipart")
    )
    assert Consent.history.filter(id=consent["id"]).first().history_user == maya
    assert only_history(Consent, consent["id"]) == [("+", maya)]

    created(
        client.post(
            f"/api/v1/consents/{consent['id']}/suspend/",
            {"reason": "Dispute", "at": "2025-06-12T00:00:00Z"},
            format="json",
        )
    )
    created(
        client.post(
            f"/api/v1/consents/{consent['id']}/resume/",
            {"reason": "Settled", "at": "2025-06-13T00:00:00Z"},
            format="json",
        )
    )
    created(
        client.post(
            f"/api/v1/consents/{consent['id']}/revoke/",
            {"reason": "Withdrawn", "at": "2025-06-20T00:00:00Z"},
            format="json",
        )
    )
    events = ConsentEvent.objects.filter(consent_id=consent["id"]).order_by("id")
    assert [e.kind for e in events] == ["suspended", "resumed", "revoked"]
    for event in events:
        assert event.actor == maya
        assert ConsentEvent.history.filter(id=event.pk).first().history_user == maya
        assert only_history(ConsentEvent, event.pk) == [("+", maya)]

    use = created(client.post("/api/v1/ai-uses/", use_body(ann, production), format="json"))
    assert AiUse.history.filter(id=use["id"]).first().history_user == maya
    assert only_history(AiUse, use["id"]) == [("+", maya)]

    notice = created(
        client.post(
            "/api/v1/union-notices/",
            {
                "production": production.pk,
                "guild": "sag-aftra",
                "kind": "synthetic_performer",
                "given_at": "2025-06-09T09:00:00Z",
                "description": "A synthetic extra",
            },
            format="json",
        )
    )
    assert UnionNotice.history.filter(id=notice["id"]).first().history_user == maya

    disclosure = created(
        client.post(
            "/api/v1/wga-disclosures/",
            {
                "production": production.pk,
                "writer": world["abe"].pk,
                "material": "An AI outline",
                "handed_over_on": "2025-06-10",
                "disclosed_at": "2025-06-10T08:00:00Z",
            },
            format="json",
        )
    )
    assert WgaDisclosure.history.filter(id=disclosure["id"]).first().history_user == maya
    assert only_history(WgaDisclosure, disclosure["id"]) == [("+", maya)]


def test_history_of_a_strike_names_the_guild_staff_who_recorded_and_ended_it(world):
    sally, sag_client = world["sally"], world["sag_client"]
    strike = created(
        sag_client.post(
            "/api/v1/strike-periods/",
            {"guild": "sag-aftra", "starts_on": "2026-08-01"},
            format="json",
        )
    )
    assert StrikePeriod.history.filter(id=strike["id"]).first().history_user == sally
    other = guild_staff("sag-aftra", "sam")
    other_client = APIClient()
    other_client.force_authenticate(other)
    created(
        other_client.put(
            f"/api/v1/strike-periods/{strike['id']}/",
            {"guild": "sag-aftra", "starts_on": "2026-08-01", "ends_on": "2026-09-30"},
            format="json",
        )
    )
    rows = StrikePeriod.history.filter(id=strike["id"]).order_by("history_id")
    assert [(r.history_type, r.history_user, r.ends_on) for r in rows] == [
        ("+", sally, None),
        ("~", other, at(2026, 9, 30).date()),
    ]
    assert StrikePeriod.history.filter(id=strike["id"]).first().history_user == other


def test_a_refused_request_leaves_no_history(world):
    client = world["client"]
    before = {m: m.history.count() for m in (Consent, ConsentEvent, AiUse)}
    response = client.post(
        "/api/v1/consents/",
        consent_body(world["ann"], world["production"], term_to="2025-05-01"),
        format="multipart",
    )
    assert response.status_code == 400
    response = client.post(
        "/api/v1/ai-uses/",
        use_body(world["ann"], world["production"], ends_at="2025-06-01T00:00:00Z"),
        format="json",
    )
    assert response.status_code == 400
    assert {m: m.history.count() for m in (Consent, ConsentEvent, AiUse)} == before


# --- verify_evidence ----------------------------------------------------------------------------


def verify_evidence() -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `manage.py verify_evidence`."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_evidence", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def two_consents(world, media):
    """Two consents uploaded over the API, with different evidence documents."""
    ann, production, client = world["ann"], world["production"], world["client"]
    first = created(
        client.post("/api/v1/consents/", consent_body(ann, production), format="multipart")
    )
    second = created(
        client.post(
            "/api/v1/consents/",
            consent_body(
                ann,
                production,
                kind="replica_use",
                evidence=evidence_file(b"%PDF-1.4 replica use rider", "use.pdf"),
            ),
            format="multipart",
        )
    )
    consents = [Consent.objects.get(pk=first["id"]), Consent.objects.get(pk=second["id"])]
    for consent in consents:
        assert Path(consent.evidence.path).is_relative_to(media)
    return consents


def test_verify_evidence_passes_when_every_file_is_intact(two_consents):
    code, out, err = verify_evidence()
    assert code == 0, err
    assert "evidence intact: 2 documents" in out
    assert err == ""
    assert Path(two_consents[0].evidence.path).read_bytes() == EVIDENCE
    assert two_consents[0].evidence_sha256 == EVIDENCE_SHA256


def test_verify_evidence_fails_naming_a_changed_file(two_consents):
    changed, intact = two_consents
    Path(changed.evidence.path).write_bytes(EVIDENCE.replace(b"battle", b"BATTLE"))
    code, out, err = verify_evidence()
    assert code == 1
    assert f"consent #{changed.pk}:" in err
    assert f"consent #{intact.pk}:" not in err
    assert hashlib.sha256(EVIDENCE.replace(b"battle", b"BATTLE")).hexdigest() in err
    assert f"recorded {EVIDENCE_SHA256}" in err
    assert "1 of 2 documents" in err
    assert "intact" not in out


def test_verify_evidence_fails_naming_a_deleted_file(two_consents):
    intact, deleted = two_consents
    Path(deleted.evidence.path).unlink()
    code, _out, err = verify_evidence()
    assert code == 1
    assert f"consent #{deleted.pk}: {deleted.evidence.name}: missing" in err
    assert f"consent #{intact.pk}:" not in err
    assert "1 of 2 documents" in err


def test_verify_evidence_reports_every_broken_file(two_consents):
    first, second = two_consents
    Path(first.evidence.path).write_bytes(b"")
    Path(second.evidence.path).unlink()
    code, _out, err = verify_evidence()
    assert code == 1
    assert f"consent #{first.pk}:" in err
    assert f"consent #{second.pk}:" in err
    assert "2 of 2 documents" in err


def test_verify_evidence_with_no_consents_is_intact():
    code, out, _err = verify_evidence()
    assert code == 0
    assert "evidence intact: 0 documents" in out
