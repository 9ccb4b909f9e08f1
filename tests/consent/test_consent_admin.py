"""Consent in the staff admin: recording a consent with its evidence upload through the service,
status badges, the evidence download with its hash, revoke and suspend actions with a reason and
the planned uses they affect, and the AI-use register with violations first. Scoped like the API."""

import hashlib
import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from consent.models import AiUse, Consent, ConsentEvent
from consent.services import ai_use_record
from ledger.access import Scope
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    evidence_file,
    grant_consent,
    guild_staff,
    studio_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world():
    a, b = StudioFactory(name="Alpha", slug="alpha"), StudioFactory(name="Bravo", slug="bravo")
    ea = EngagementFactory(production=ProductionFactory(studio=a, title="Alpha Film"))
    eb = EngagementFactory(production=ProductionFactory(studio=b, title="Bravo Film"))
    return {"a": a, "b": b, "ea": ea, "eb": eb, "alice": studio_staff(a, "alice")}


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _use(engagement, kind="replica_creation", at=datetime(2025, 6, 10, 9, tzinfo=UTC)):
    return ai_use_record(
        actor=UserFactory(username="recorder"),
        scope=Scope(superuser=True),
        production=engagement.production,
        person=engagement.person,
        kind=kind,
        starts_at=at,
        description="scan",
    )


def test_studio_staff_record_a_consent_with_its_evidence(world):
    client = _client(world["alice"])
    form = client.get(reverse("admin:consent_consent_add"))
    assert form.status_code == 200 and 'name="evidence"' in form.content.decode()
    content = b"%PDF-1.4 signed rider"
    response = client.post(
        reverse("admin:consent_consent_add"),
        {
            "person": world["ea"].person_id,
            "production": world["ea"].production_id,
            "kind": "replica_creation",
            "description": SPECIFIC,
            "term_from": "2025-06-01",
            "instrument": "rider",
            "signed_at_0": "2025-06-01",
            "signed_at_1": "12:00:00",
            "signed_by": "Ann",
            "signed_by_capacity": "self",
            "represented_by": "none",
            "notice_at_0": "2025-06-01",
            "notice_at_1": "12:00:00",
            "bargained_currency": "USD",
            "evidence": evidence_file(content, "rider.pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    consent = Consent.objects.get()
    assert consent.evidence_sha256 == hashlib.sha256(content).hexdigest()
    assert consent.recorded_by == world["alice"]
    assert consent.history.get().history_user == world["alice"]
    page = client.get(reverse("admin:consent_consent_change", args=[consent.pk])).content.decode()
    assert consent.evidence_sha256 in page and "granted" in page
    download = client.get(reverse("admin:consent_consent_evidence", args=[consent.pk]))
    assert b"".join(download.streaming_content) == content
    assert download["X-Evidence-SHA256"] == consent.evidence_sha256


def test_a_refused_consent_is_a_form_error_and_writes_nothing(world):
    client = _client(world["alice"])
    response = client.post(
        reverse("admin:consent_consent_add"),
        {
            "person": world["ea"].person_id,
            "production": world["ea"].production_id,
            "kind": "replica_creation",
            "description": SPECIFIC,
            "term_from": "2025-06-01",
            "instrument": "rider",
            "signed_at_0": "2025-06-01",
            "signed_at_1": "12:00:00",
            "signed_by": "Ann",
            "signed_by_capacity": "self",
            "represented_by": "none",
            "category": "writer",  # not a SAG-AFTRA category: refused by the service
            "bargained_currency": "USD",
            "evidence": evidence_file(),
        },
    )
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert Consent.objects.count() == 0


def test_other_studios_consents_are_absent_and_404(world):
    mine, theirs = grant_consent(world["ea"]), grant_consent(world["eb"])
    client = _client(world["alice"])
    listing = client.get(reverse("admin:consent_consent_changelist")).content.decode()
    assert f"/admin/consent/consent/{mine.pk}/change/" in listing
    assert f"/admin/consent/consent/{theirs.pk}/change/" not in listing
    assert client.get(reverse("admin:consent_consent_change", args=[theirs.pk])).status_code == 404
    assert (
        client.get(reverse("admin:consent_consent_evidence", args=[theirs.pk])).status_code == 404
    )


def test_revoke_action_asks_for_a_reason_and_shows_affected_planned_uses(world, monkeypatch):
    monkeypatch.setattr("consent.admin.timezone.now", lambda: datetime(2025, 6, 5, tzinfo=UTC))
    consent = grant_consent(world["ea"])
    planned = _use(world["ea"], at=datetime(2025, 7, 5, 9, tzinfo=UTC))
    assert planned.consent == consent
    client = _client(world["alice"])
    url = reverse("admin:consent_consent_changelist")
    confirm = client.post(url, {"action": "revoke_selected", "_selected_action": [consent.pk]})
    page = confirm.content.decode()
    assert confirm.status_code == 200 and "Reason" in page
    assert str(planned) in page  # the planned use the revocation takes away
    done = client.post(
        url,
        {
            "action": "revoke_selected",
            "_selected_action": [consent.pk],
            "apply": "1",
            "reason": "Performer withdrew consent",
            "at_0": "",
            "at_1": "",
        },
    )
    assert done.status_code == 302
    event = ConsentEvent.objects.get()
    assert (event.kind, event.reason, event.actor) == (
        "revoked",
        "Performer withdrew consent",
        world["alice"],
    )
    listing = client.get(url).content.decode()
    assert "revoked" in listing


def test_guild_staff_read_consents_but_cannot_revoke(world):
    consent = grant_consent(world["ea"])
    sally = guild_staff("sag-aftra", "sally")
    client = _client(sally)
    assert client.get(reverse("admin:consent_consent_change", args=[consent.pk])).status_code == 200
    client.post(
        reverse("admin:consent_consent_changelist"),
        {
            "action": "revoke_selected",
            "_selected_action": [consent.pk],
            "apply": "1",
            "reason": "x",
        },
    )
    assert ConsentEvent.objects.count() == 0


def test_register_lists_violations_first_and_add_shows_the_decision(world):
    grant_consent(world["ea"])
    allowed = _use(world["ea"])
    client = _client(world["alice"])
    assert client.get(reverse("admin:consent_aiuse_add")).status_code == 200
    response = client.post(
        reverse("admin:consent_aiuse_add"),
        {
            "production": world["ea"].production_id,
            "person": world["ea"].person_id,
            "kind": "replica_use",
            "starts_at_0": "2025-07-01",
            "starts_at_1": "09:00:00",
            "days": "1",
            "description": "Replica in scene 12",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Recorded as violation" in page and "sag.consent.ebdr_use" in page
    violation = AiUse.objects.get(status="violation")
    listing = client.get(reverse("admin:consent_aiuse_changelist")).content.decode()
    rows = re.findall(r"/admin/consent/aiuse/(\d+)/change/", listing)
    assert rows.index(str(violation.pk)) < rows.index(str(allowed.pk))
    assert violation.history.get().history_user == world["alice"]
