"""Consent over REST, as studio and guild staff use it: recording a consent with its evidence,
reading and filtering consents, revoking, suspending, resuming and superseding them (and what
that does to the consent check), the evidence download, the AI-use register, union notices,
strike periods, WGA disclosures, and the single and batch consent checks."""

import hashlib
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from consent.models import AiUse, Consent, ConsentEvent, StrikePeriod, UnionNotice, WgaDisclosure
from tests.consent.helpers import (
    EVIDENCE,
    EVIDENCE_SHA256,
    NONEXISTENT_ID,
    at,
    check_body,
    counts,
    media_files,
    post_consent,
    streamed,
    use_body,
)
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    evidence_file,
    grant_consent,
    guild_staff,
    studio_staff,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

CHECK_KEYS = {"allowed", "consent", "rules", "reasons", "agreement", "warnings"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world():
    """Studio Meridian: production `The Long Light` under SAG-AFTRA 2023 and WGA 2023, with Ann
    (a day performer) and Abe (a writer) engaged on it; a second production `Harbor Nights` with
    Bob engaged. Studio Northgate, elsewhere, engages Nell. Maya is Meridian's staff."""
    meridian = StudioFactory(name="Meridian", slug="meridian")
    northgate = StudioFactory(name="Northgate", slug="northgate")
    light = ProductionFactory(studio=meridian, title="The Long Light")
    harbor = ProductionFactory(studio=meridian, title="Harbor Nights")
    ProductionAgreementFactory(production=light, agreement=agreement("wga-mba-2023"))
    ann = EngagementFactory(
        production=light, person=PersonFactory(legal_name="Ann Example", registered_by=meridian)
    )
    abe = EngagementFactory(
        production=light,
        person=PersonFactory(legal_name="Abe Writer", registered_by=meridian),
        agreement=agreement("wga-mba-2023"),
        classification="writer",
        rate_unit="week",
    )
    bob = EngagementFactory(
        production=harbor, person=PersonFactory(legal_name="Bob Example", registered_by=meridian)
    )
    nell = EngagementFactory(
        production=ProductionFactory(studio=northgate, title="Northgate Film"),
        person=PersonFactory(legal_name="Nell Other", registered_by=northgate),
    )
    maya = studio_staff(meridian, "maya")
    client = APIClient()
    client.force_authenticate(maya)
    return {
        "meridian": meridian,
        "light": light,
        "harbor": harbor,
        "ann": ann.person,
        "abe": abe.person,
        "bob": bob.person,
        "ann_engagement": ann,
        "bob_engagement": bob,
        "nell": nell.person,
        "nell_production": nell.production,
        "maya": maya,
        "client": client,
    }


def grant(world, who="ann", **fields):
    """A consent of Ann's (or Bob's) engagement, through the service, recorded by Maya."""
    return grant_consent(world[f"{who}_engagement"], actor=world["maya"], **fields)


def check(client, body):
    response = client.post("/api/v1/consent-checks/", body, format="json")
    assert response.status_code == 200, response.content
    decision = response.json()
    assert set(decision) == CHECK_KEYS, decision
    return decision


def check_on(world, on, kind="replica_creation"):
    """Ann's use of `kind` in The Long Light at `on`, checked over the API."""
    return check(world["client"], check_body(world["ann"], world["light"], on=on, use_kind=kind))


def detail(world, consent_id):
    response = world["client"].get(f"/api/v1/consents/{consent_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def event(world, consent_id, action, **body):
    return world["client"].post(f"/api/v1/consents/{consent_id}/{action}/", body, format="json")


# --- recording a consent with its evidence --------------------------------------------------


def test_create_a_consent_with_a_multipart_evidence_upload(world, media):
    before = counts()
    response = post_consent(world["client"], world["ann"], world["light"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["evidence"] == {
        "name": "rider.pdf",
        "sha256": hashlib.sha256(EVIDENCE).hexdigest(),
        "size": len(EVIDENCE),
    }
    assert body["status"] == "granted"
    assert body["person"] == world["ann"].pk
    assert body["production"] == world["light"].pk
    assert body["studio"] == "meridian"
    assert body["agreement"] == "sag-tvth-2023"
    assert body["category"] == "principal"  # from Ann's engagement as a day performer
    assert body["kind"] == "replica_creation"
    assert body["supersedes"] is None and body["superseded_by"] is None
    assert body["events"] == []
    assert body["recorded_by"] == "maya"

    consent = Consent.objects.get(pk=body["id"])
    assert consent.evidence_sha256 == EVIDENCE_SHA256
    with consent.evidence.open("rb") as handle:
        assert handle.read() == EVIDENCE
    assert Path(consent.evidence.path).is_relative_to(media)
    after = counts()
    assert after["Consent"] == before["Consent"] + 1
    assert after["Consent history"] == before["Consent history"] + 1


def test_list_detail_and_filters(world):
    creation = grant(world)
    use = grant(world, kind="replica_use")
    bobs = grant(world, "bob")
    client = world["client"]

    listed = client.get("/api/v1/consents/")
    assert listed.status_code == 200, listed.content
    assert {row["id"] for row in listed.json()["results"]} == {creation.pk, use.pk, bobs.pk}

    def ids(**params):
        response = client.get("/api/v1/consents/", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids(person=world["ann"].pk) == {creation.pk, use.pk}
    assert ids(person=world["bob"].pk) == {bobs.pk}
    assert ids(production=world["light"].pk) == {creation.pk, use.pk}
    assert ids(production=world["harbor"].pk) == {bobs.pk}
    assert ids(kind="replica_use") == {use.pk}
    assert ids(kind="replica_creation") == {creation.pk, bobs.pk}
    assert ids(person=world["ann"].pk, kind="replica_creation") == {creation.pk}
    assert ids(person=world["bob"].pk, production=world["light"].pk) == set()
    refused = assert_error(
        client.get("/api/v1/consents/", {"person": NONEXISTENT_ID}), 400, "invalid"
    )
    assert refused["fields"] == {"person": [f"No person {NONEXISTENT_ID} that you can see."]}

    body = detail(world, use.pk)
    assert body["id"] == use.pk
    assert body["kind"] == "replica_use"
    assert body["evidence"]["sha256"] == creation.evidence_sha256
    assert_error(client.get(f"/api/v1/consents/{NONEXISTENT_ID}/"), 404, "not_found")


# --- revocation -------------------------------------------------------------------------------


def test_revoke_changes_decisions_after_the_revocation_only(world):
    consent = grant(world)
    before_use, after_use = "2025-06-10T09:00:00Z", "2025-06-20T09:00:00Z"
    assert check_on(world, before_use)["consent"] == consent.pk
    assert check_on(world, after_use)["allowed"] is True

    response = event(
        world, consent.pk, "revoke", reason="Performer withdrew", at="2025-06-15T00:00:00Z"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "revoked"
    assert [(e["kind"], e["effective_at"], e["reason"], e["actor"]) for e in body["events"]] == [
        ("revoked", "2025-06-15T00:00:00Z", "Performer withdrew", "maya")
    ]

    earlier = check_on(world, before_use)
    assert earlier["allowed"] is True
    assert earlier["consent"] == consent.pk
    later = check_on(world, after_use)
    assert later["allowed"] is False
    assert later["consent"] is None
    assert later["rules"] == ["consent.revoked"]
    assert any("revoked" in reason for reason in later["reasons"])
    # At the instant of revocation, too.
    assert check_on(world, "2025-06-15T00:00:00Z")["allowed"] is False


def test_revoking_twice_is_409_and_writes_nothing(world):
    consent = grant(world)
    first = event(world, consent.pk, "revoke", reason="withdrawn", at="2025-06-15T00:00:00Z")
    assert first.status_code == 200, first.content
    before = counts()
    again = event(world, consent.pk, "revoke", reason="again", at="2025-06-16T00:00:00Z")
    assert_error(again, 409, "consent_revoked")
    assert counts() == before
    assert list(ConsentEvent.objects.filter(consent=consent).values_list("kind", flat=True)) == [
        "revoked"
    ]


# --- suspension and resumption ------------------------------------------------------------------


def test_suspend_refuses_during_the_suspension_and_resume_allows_after(world):
    consent = grant(world)
    response = event(world, consent.pk, "suspend", reason="Dispute", at="2025-06-12T00:00:00Z")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "suspended"

    during = check_on(world, "2025-06-13T09:00:00Z")
    assert during["allowed"] is False
    assert during["rules"] == ["consent.revoked"]
    assert any("suspended" in reason for reason in during["reasons"])
    assert check_on(world, "2025-06-11T09:00:00Z")["allowed"] is True

    # Suspending a suspended consent changes nothing.
    before = counts()
    again = event(world, consent.pk, "suspend", reason="Again", at="2025-06-12T12:00:00Z")
    assert again.status_code == 200, again.content
    assert counts() == before

    response = event(world, consent.pk, "resume", reason="Settled", at="2025-06-14T00:00:00Z")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "granted"
    assert [e["kind"] for e in body["events"]] == ["suspended", "resumed"]

    after = check_on(world, "2025-06-15T09:00:00Z")
    assert after["allowed"] is True
    assert after["consent"] == consent.pk
    # The suspension stays in the record: a use dated inside it is still refused.
    assert check_on(world, "2025-06-13T09:00:00Z")["allowed"] is False


def test_resume_when_not_suspended_is_409(world):
    consent = grant(world)
    before = counts()
    response = event(
        world, consent.pk, "resume", reason="Nothing to resume", at="2025-06-14T00:00:00Z"
    )
    assert_error(response, 409, "consent_not_suspended")
    assert counts() == before

    # And again after a completed suspension.
    assert (
        event(world, consent.pk, "suspend", reason="x", at="2025-06-12T00:00:00Z").status_code
        == 200
    )
    assert (
        event(world, consent.pk, "resume", reason="y", at="2025-06-13T00:00:00Z").status_code == 200
    )
    before = counts()
    response = event(world, consent.pk, "resume", reason="z", at="2025-06-14T00:00:00Z")
    assert_error(response, 409, "consent_not_suspended")
    assert counts() == before


# --- superseding ------------------------------------------------------------------------------


def test_a_superseding_consent_replaces_the_old_one(world):
    old = grant(world)
    assert check_on(world, "2025-06-03T09:00:00Z")["consent"] == old.pk

    response = post_consent(
        world["client"],
        world["ann"],
        world["light"],
        supersedes=old.pk,
        signed_at="2025-06-05T12:00:00Z",
        notice_at="2025-06-05T12:00:00Z",
        description=SPECIFIC + ", and the finale of episode 4",
    )
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["supersedes"] == old.pk
    assert new["status"] == "granted"

    old_body = detail(world, old.pk)
    assert old_body["status"] == "superseded"
    assert old_body["superseded_by"] == new["id"]

    # After the new consent's signature, the check relies on the new one.
    decision = check_on(world, "2025-06-10T09:00:00Z")
    assert decision["allowed"] is True
    assert decision["consent"] == new["id"]
    # Before it, only the old one would have covered the use: it no longer covers anything.
    earlier = check_on(world, "2025-06-03T09:00:00Z")
    assert earlier["allowed"] is False
    assert earlier["consent"] is None
    assert any(f"superseded by {new['id']}" in reason for reason in earlier["reasons"])


def test_superseding_twice_is_409_and_writes_nothing(world, media):
    old = grant(world)
    first = post_consent(
        world["client"],
        world["ann"],
        world["light"],
        supersedes=old.pk,
        signed_at="2025-06-05T12:00:00Z",
    )
    assert first.status_code == 201, first.content
    before, files = counts(), media_files(media)
    second = post_consent(
        world["client"],
        world["ann"],
        world["light"],
        supersedes=old.pk,
        signed_at="2025-06-06T12:00:00Z",
        evidence=evidence_file(b"another rider", "second.pdf"),
    )
    body = assert_error(second, 409, "already_superseded")
    assert set(body["fields"]) == {"supersedes"}
    assert counts() == before
    assert media_files(media) == files


def test_superseding_a_consent_of_another_kind_or_person_is_refused(world, media):
    old = grant(world)
    bobs = grant(world, "bob")
    before, files = counts(), media_files(media)
    other_kind = post_consent(
        world["client"], world["ann"], world["light"], kind="replica_use", supersedes=old.pk
    )
    assert set(assert_error(other_kind, 400, "invalid")["fields"]) == {"supersedes"}
    other_person = post_consent(world["client"], world["ann"], world["light"], supersedes=bobs.pk)
    assert set(assert_error(other_person, 400, "invalid")["fields"]) == {"supersedes"}
    assert counts() == before
    assert media_files(media) == files
    assert detail(world, old.pk)["status"] == "granted"


def test_superseding_a_revoked_consent_is_409(world):
    old = grant(world)
    assert (
        event(world, old.pk, "revoke", reason="withdrawn", at="2025-06-15T00:00:00Z").status_code
        == 200
    )
    before = counts()
    response = post_consent(
        world["client"],
        world["ann"],
        world["light"],
        supersedes=old.pk,
        signed_at="2025-06-16T00:00:00Z",
    )
    assert_error(response, 409, "consent_revoked")
    assert counts() == before


def test_events_on_a_superseded_consent_are_409(world):
    old = grant(world)
    new = grant(world, supersedes=old, signed_at=at(2025, 6, 5, 12))
    for action in ("revoke", "suspend", "resume"):
        before = counts()
        response = event(world, old.pk, action, reason="x", at="2025-06-20T00:00:00Z")
        assert_error(response, 409, "consent_superseded")
        assert counts() == before
    assert event(world, new.pk, "revoke", reason="x", at="2025-06-20T00:00:00Z").status_code == 200


# --- the evidence download --------------------------------------------------------------------


def test_evidence_download_returns_the_bytes_and_the_recorded_hash(world):
    created = post_consent(world["client"], world["ann"], world["light"])
    assert created.status_code == 201, created.content
    consent_id = created.json()["id"]

    response = world["client"].get(f"/api/v1/consents/{consent_id}/evidence/")
    assert response.status_code == 200
    assert streamed(response) == EVIDENCE
    assert response["X-Evidence-SHA256"] == EVIDENCE_SHA256
    assert hashlib.sha256(EVIDENCE).hexdigest() == response["X-Evidence-SHA256"]
    assert "attachment" in response["Content-Disposition"]
    assert "rider.pdf" in response["Content-Disposition"]


def test_evidence_download_of_a_missing_file_is_409(world):
    consent = grant(world)
    Path(consent.evidence.path).unlink()
    response = world["client"].get(f"/api/v1/consents/{consent.pk}/evidence/")
    assert_error(response, 409, "evidence_missing")


# --- the AI-use register ----------------------------------------------------------------------


def test_a_covered_use_is_recorded_as_allowed_with_the_consent_relied_on(world):
    consent = grant(world)
    before = counts()
    response = world["client"].post(
        "/api/v1/ai-uses/", use_body(world["ann"], world["light"]), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "allowed"
    assert body["consent"] == consent.pk
    assert body["agreement"] == "sag-tvth-2023"
    assert "sag.consent.creation" in body["rules"]
    assert body["recorded_by"] == "maya"
    assert body["studio"] == "meridian"
    assert counts()["AiUse"] == before["AiUse"] + 1
    use = AiUse.objects.get(pk=body["id"])
    assert (use.status, use.consent_id) == ("allowed", consent.pk)

    listed = world["client"].get("/api/v1/ai-uses/", {"status": "allowed"})
    assert [row["id"] for row in listed.json()["results"]] == [use.pk]
    got = world["client"].get(f"/api/v1/ai-uses/{use.pk}/")
    assert got.status_code == 200 and got.json()["consent"] == consent.pk


def test_an_uncovered_use_is_recorded_as_a_violation_never_refused(world):
    grant(world)  # a creation consent: it does not cover a replica *use*
    before = counts()
    response = world["client"].post(
        "/api/v1/ai-uses/",
        use_body(world["ann"], world["light"], kind="replica_use", days="1"),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "violation"
    assert body["consent"] is None
    assert body["rules"] == ["sag.consent.ebdr_use"]
    assert body["reasons"]
    assert counts()["AiUse"] == before["AiUse"] + 1
    assert AiUse.objects.get(pk=body["id"]).status == "violation"

    # A use after a revocation is a violation naming consent.revoked.
    consent = Consent.objects.get(person=world["ann"])
    assert (
        event(world, consent.pk, "revoke", reason="gone", at="2025-06-15T00:00:00Z").status_code
        == 200
    )
    response = world["client"].post(
        "/api/v1/ai-uses/",
        use_body(world["ann"], world["light"], starts_at="2025-06-20T09:00:00Z"),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["rules"]) == (
        "violation",
        ["consent.revoked"],
    )


# --- union notices, strike periods, WGA disclosures -------------------------------------------


def test_union_notices_create_list_and_feed_the_check(world):
    client = world["client"]
    synthetic = {
        "person": None,
        "production": world["light"].pk,
        "use_kind": "synthetic_performer",
        "on": "2025-06-10T09:00:00Z",
    }
    refused = check(client, synthetic)
    assert (refused["allowed"], refused["rules"]) == (False, ["sag.consent.synthetic"])

    response = client.post(
        "/api/v1/union-notices/",
        {
            "production": world["light"].pk,
            "guild": "sag-aftra",
            "kind": "synthetic_performer",
            "given_at": "2025-06-09T09:00:00Z",
            "description": "A synthetic extra in the crowd scenes",
            "recipient": "SAG-AFTRA contracts",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    notice_id = response.json()["id"]
    assert UnionNotice.objects.get(pk=notice_id).recorded_by == world["maya"]
    listed = client.get("/api/v1/union-notices/", {"production": world["light"].pk})
    assert [row["id"] for row in listed.json()["results"]] == [notice_id]
    assert client.get(f"/api/v1/union-notices/{notice_id}/").json()["guild"] == "sag-aftra"

    allowed = check(client, synthetic)
    assert allowed["allowed"] is True
    assert allowed["consent"] is None
    assert allowed["rules"] == ["sag.consent.synthetic"]


def test_union_notice_to_the_wrong_guild_is_refused(world):
    before = counts()
    response = world["client"].post(
        "/api/v1/union-notices/",
        {
            "production": world["light"].pk,
            "guild": "wga",
            "kind": "synthetic_performer",
            "given_at": "2025-06-09T09:00:00Z",
            "description": "x",
        },
        format="json",
    )
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"guild"}
    assert counts() == before


STRIKE = {"guild": "sag-aftra", "starts_on": "2026-08-01", "description": "2026 strike"}


def test_guild_staff_record_their_guild_strikes(world):
    sag_client = APIClient()
    sag_user = guild_staff("sag-aftra", "sally")
    sag_client.force_authenticate(sag_user)
    response = sag_client.post("/api/v1/strike-periods/", STRIKE, format="json")
    assert response.status_code == 201, response.content
    strike = StrikePeriod.objects.get(pk=response.json()["id"])
    assert (strike.guild.code, strike.ends_on, strike.recorded_by) == ("sag-aftra", None, sag_user)

    # Read by every staff caller, studio staff included.
    listed = world["client"].get("/api/v1/strike-periods/")
    assert [row["id"] for row in listed.json()["results"]] == [strike.pk]
    active = world["client"].get("/api/v1/strike-periods/", {"active_on": "2026-09-01"})
    assert [row["id"] for row in active.json()["results"]] == [strike.pk]
    inactive = world["client"].get("/api/v1/strike-periods/", {"active_on": "2026-07-01"})
    assert inactive.json()["results"] == []

    # The guild's staff set its end (PUT with the whole record; PATCH: see below).
    response = sag_client.put(
        f"/api/v1/strike-periods/{strike.pk}/", {**STRIKE, "ends_on": "2026-10-01"}, format="json"
    )
    assert response.status_code == 200, response.content
    strike.refresh_from_db()
    assert str(strike.ends_on) == "2026-10-01"
    assert strike.history.first().history_user == sag_user


def test_guild_staff_set_a_strike_end_with_patch():
    """The documented way to end a strike: PATCH only `ends_on`. (Regression: validate() read
    attrs['starts_on'], absent from a partial update, and answered 500.)"""
    sag_client = APIClient(raise_request_exception=False)
    sag_client.force_authenticate(guild_staff("sag-aftra", "sally"))
    created = sag_client.post("/api/v1/strike-periods/", STRIKE, format="json")
    assert created.status_code == 201, created.content
    strike_id = created.json()["id"]

    response = sag_client.patch(
        f"/api/v1/strike-periods/{strike_id}/", {"ends_on": "2026-10-01"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert str(StrikePeriod.objects.get(pk=strike_id).ends_on) == "2026-10-01"
    # And an end before the start is a 400 naming ends_on, not a 500.
    response = sag_client.patch(
        f"/api/v1/strike-periods/{strike_id}/", {"ends_on": "2026-07-01"}, format="json"
    )
    assert set(assert_error(response, 400, "invalid")["fields"]) == {"ends_on"}


def test_studio_staff_and_other_guilds_cannot_record_a_strike(world):
    wga_client = APIClient()
    wga_client.force_authenticate(guild_staff("wga", "walt"))
    before = counts()
    assert_error(
        world["client"].post("/api/v1/strike-periods/", STRIKE, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        wga_client.post("/api/v1/strike-periods/", STRIKE, format="json"),
        403,
        "permission_denied",
    )
    assert counts() == before
    # WGA staff may record a WGA strike (the refusal above is about the guild).
    response = wga_client.post("/api/v1/strike-periods/", {**STRIKE, "guild": "wga"}, format="json")
    assert response.status_code == 201, response.content

    sag_client = APIClient()
    sag_client.force_authenticate(guild_staff("sag-aftra", "sally"))
    sag_strike = sag_client.post("/api/v1/strike-periods/", STRIKE, format="json").json()["id"]
    before = counts()
    for client in (world["client"], wga_client):
        assert_error(
            client.patch(
                f"/api/v1/strike-periods/{sag_strike}/", {"ends_on": "2026-09-01"}, format="json"
            ),
            403,
            "permission_denied",
        )
        assert_error(
            client.put(
                f"/api/v1/strike-periods/{sag_strike}/",
                {**STRIKE, "ends_on": "2026-09-01"},
                format="json",
            ),
            403,
            "permission_denied",
        )
    assert counts() == before
    assert StrikePeriod.objects.get(pk=sag_strike).ends_on is None


def test_a_recorded_strike_refuses_replica_use_under_the_2026_agreement(world):
    consent = grant(world, kind="replica_use")
    body = check_body(
        world["ann"], world["light"], on="2026-08-10T09:00:00Z", use_kind="replica_use"
    )
    before = check(world["client"], body)
    assert before["allowed"] is True, before
    assert before["agreement"] == "sag-tvth-2026"
    assert before["consent"] == consent.pk

    sag_client = APIClient()
    sag_client.force_authenticate(guild_staff("sag-aftra", "sally"))
    assert sag_client.post("/api/v1/strike-periods/", STRIKE, format="json").status_code == 201

    during = check(world["client"], body)
    assert (during["allowed"], during["rules"]) == (False, ["sag.consent.strike"])


def test_wga_disclosures_create_and_list(world):
    client = world["client"]
    response = client.post(
        "/api/v1/wga-disclosures/",
        {
            "production": world["light"].pk,
            "writer": world["abe"].pk,
            "material": "An AI-generated outline of episode 2",
            "handed_over_on": "2025-06-10",
            "disclosed_at": "2025-06-10T08:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    disclosure = WgaDisclosure.objects.get(pk=body["id"])
    assert (disclosure.writer, disclosure.recorded_by) == (world["abe"], world["maya"])
    listed = client.get("/api/v1/wga-disclosures/", {"writer": world["abe"].pk})
    assert [row["id"] for row in listed.json()["results"]] == [disclosure.pk]
    others = client.get("/api/v1/wga-disclosures/", {"writer": world["ann"].pk})
    assert others.json()["results"] == []
    assert client.get(f"/api/v1/wga-disclosures/{disclosure.pk}/").json()["material"] == (
        "An AI-generated outline of episode 2"
    )

    handed = check(
        client,
        check_body(
            world["abe"],
            world["light"],
            on="2025-06-10T09:00:00Z",
            use_kind="writer_ai_use",
            material_handed_over=True,
        ),
    )
    assert handed["allowed"] is True
    assert handed["rules"] == ["wga.disclosure"]
    assert handed["agreement"] == "wga-mba-2023"


# --- the consent check ------------------------------------------------------------------------


def test_the_single_check_answers_with_a_decision(world):
    consent = grant(world)
    before = counts()
    decision = check(world["client"], check_body(world["ann"], world["light"]))
    assert decision["allowed"] is True
    assert decision["consent"] == consent.pk
    assert decision["agreement"] == "sag-tvth-2023"
    assert "sag.consent.creation" in decision["rules"]
    assert isinstance(decision["reasons"], list)
    refused = check(world["client"], check_body(world["bob"], world["harbor"]))
    assert refused == {
        "allowed": False,
        "consent": None,
        "rules": ["sag.consent.creation"],
        "reasons": refused["reasons"],
        "agreement": "sag-tvth-2023",
        "warnings": [],
    }
    assert refused["reasons"]
    assert counts() == before  # the check writes nothing


def test_the_single_check_of_a_person_outside_scope_is_404(world):
    response = world["client"].post(
        "/api/v1/consent-checks/",
        check_body(world["nell"], world["light"]),
        format="json",
    )
    body = assert_error(response, 404, "not_found")
    assert set(body["fields"]) == {"person"}


def test_a_check_with_no_agreement_to_decide_by_is_refused(world):
    """A person in scope with no engagement, consent or guild membership: there is no agreement
    to check against (400 alone, an `error` in its place in a batch)."""
    loner = PersonFactory(legal_name="Lone Person", registered_by=world["meridian"])
    body = check_body(loner, world["light"])
    response = world["client"].post("/api/v1/consent-checks/", body, format="json")
    assert set(assert_error(response, 400, "no_agreement")["fields"]) == {"person"}
    response = world["client"].post(
        "/api/v1/consent-checks/batch/",
        {"checks": [body, check_body(world["bob"], world["harbor"])]},
        format="json",
    )
    assert response.status_code == 200, response.content
    first, second = response.json()["results"]
    assert first["error"]["code"] == "no_agreement"
    assert second["allowed"] is False


def test_the_batch_answers_in_order_with_per_item_errors(world):
    consent = grant(world)
    covered = check_body(world["ann"], world["light"])
    uncovered = check_body(world["bob"], world["harbor"])
    outside = check_body(world["nell"], world["light"])
    before = counts()

    response = world["client"].post(
        "/api/v1/consent-checks/batch/", {"checks": [covered, outside, uncovered]}, format="json"
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 3
    assert set(results[0]) == CHECK_KEYS
    assert (results[0]["allowed"], results[0]["consent"]) == (True, consent.pk)
    assert results[1] == {
        "error": {
            "code": "not_found",
            "message": "No such person.",
            "fields": {"person": "Not found."},
        }
    }
    assert set(results[2]) == CHECK_KEYS
    assert (results[2]["allowed"], results[2]["consent"]) == (False, None)
    assert results[2]["rules"] == ["sag.consent.creation"]

    # The same checks in another order: the answers follow the order of the request.
    response = world["client"].post(
        "/api/v1/consent-checks/batch/", {"checks": [uncovered, covered, outside]}, format="json"
    )
    reordered = response.json()["results"]
    assert reordered == [results[2], results[0], results[1]]

    # Each answer is the single check's answer.
    single = world["client"].post("/api/v1/consent-checks/", covered, format="json").json()
    assert single == results[0]
    assert counts() == before


def test_the_batch_answers_1000_checks_and_refuses_1001(world):
    grant(world)
    covered = check_body(world["ann"], world["light"])
    uncovered = check_body(world["bob"], world["harbor"])
    checks = [covered if i % 2 == 0 else uncovered for i in range(1000)]
    before = counts()

    response = world["client"].post(
        "/api/v1/consent-checks/batch/", {"checks": checks}, format="json"
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 1000
    assert [r["allowed"] for r in results] == [i % 2 == 0 for i in range(1000)]

    response = world["client"].post(
        "/api/v1/consent-checks/batch/", {"checks": [*checks, covered]}, format="json"
    )
    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"checks"}
    assert counts() == before


def test_the_batch_costs_the_same_queries_for_3_or_300_checks(world):
    """The facts are loaded once per request, however many checks it asks."""
    grant(world)
    grant(world, "bob", kind="replica_use")
    mixed = [
        check_body(world["ann"], world["light"]),
        check_body(world["bob"], world["harbor"], use_kind="replica_use"),
        check_body(world["nell"], world["light"]),
    ]

    def queries(checks):
        with CaptureQueriesContext(connection) as captured:
            response = world["client"].post(
                "/api/v1/consent-checks/batch/", {"checks": checks}, format="json"
            )
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) == len(checks)
        return len(captured.captured_queries)

    assert queries(mixed * 100) == queries(mixed)


def test_a_use_needs_the_guilds_agreement_attached_to_the_production():
    """A use decided under SAG-AFTRA cannot be recorded on a production with no SAG-AFTRA
    agreement: it would be visible to a guild whose agreement does not cover the production."""
    from tests.factories import (
        MembershipFactory,
        PersonFactory,
        ProductionAgreementFactory,
        ProductionFactory,
        StudioFactory,
        agreement,
        studio_staff,
    )

    studio = StudioFactory()
    production = ProductionFactory(studio=studio)
    ProductionAgreementFactory(production=production, agreement=agreement("wga-mba-2023"))
    performer = PersonFactory(registered_by=studio)
    MembershipFactory(person=performer)  # SAG-AFTRA: the check decides under SAG-AFTRA
    client = APIClient()
    client.force_authenticate(studio_staff(studio, "coordinator"))
    response = client.post(
        "/api/v1/ai-uses/",
        {
            "production": production.pk,
            "person": performer.pk,
            "kind": "replica_use",
            "starts_at": "2025-07-01T09:00:00Z",
            "description": "Replica in scene 12",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "agreement_not_attached"
    assert AiUse.objects.count() == 0
