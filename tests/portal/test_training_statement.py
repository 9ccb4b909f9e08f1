"""A person's training statement: a signed JSON statement of their AI-training preference at a
stable, unguessable public address, computed from their training consents at each request,
verifiable with the published key, saying nothing else about them, and linked from their page."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from consent.services import consent_revoke
from core.security import signing
from portal import personal, training
from portal.models import TrainingStatement
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    UserFactory,
    grant_consent,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SITE_URL = "http://testserver"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann():
    return EngagementFactory(
        production=ProductionFactory(title="Night Shift"),
        person=PersonFactory(legal_name="Ann Example", email="ann@example.org"),
    )


def url(found: TrainingStatement) -> str:
    return f"/training-preferences/{found.public_id}.json"


def fetch(found: TrainingStatement) -> dict:
    response = Client().get(url(found))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, no-cache"
    return json.loads(response.content)


def published_key():
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    document = json.loads(Client().get("/.well-known/guild-ledger-keys.json").content)
    (key,) = document["keys"]
    return key["kid"], load_pem_public_key(key["pem"].encode())


def use_of(statement: dict) -> str:
    entries = statement["assertion"]["data"]["entries"]
    assert entries["cawg.ai_inference"] == {"use": "notAllowed"}
    assert entries["cawg.data_mining"] == {"use": "notAllowed"}
    assert entries["cawg.ai_training"]["use"] == entries["cawg.ai_generative_training"]["use"]
    return entries["cawg.ai_generative_training"]["use"]


def test_the_statement_is_signed_with_the_published_key(ann):
    found = training.statement_for(ann.person)
    statement = fetch(found)
    assert set(statement) == {
        "type",
        "id",
        "assertion",
        "issued_at",
        "alg",
        "key_id",
        "signature",
    }
    assert statement["id"] == str(found.public_id)
    assert statement["issued_at"] == "2025-06-10T12:00:00+00:00"
    assert statement["assertion"]["label"] == "cawg.training-mining"
    kid, key = published_key()
    assert statement["key_id"] == kid and statement["alg"] == "Ed25519"
    rest = {k: v for k, v in statement.items() if k != "signature"}
    message = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert signing.verify(message.encode(), statement["signature"], key)
    # The signature covers every other field: change one and it no longer holds.
    forged = {**rest, "assertion": {**rest["assertion"], "label": "cawg.other"}}
    message = json.dumps(forged, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert not signing.verify(message.encode(), statement["signature"], key)


def test_it_says_nothing_else_about_the_person(ann):
    text = Client().get(url(training.statement_for(ann.person))).content.decode()
    person = ann.person
    for detail in ("Ann", "Example", "ann@example.org", "Night Shift", person.payroll_ref):
        assert detail not in text


def test_the_preference_follows_the_training_consents(ann, clock):
    found = training.statement_for(ann.person)
    assert use_of(fetch(found)) == "notAllowed"

    # A consent of another kind changes nothing.
    grant_consent(ann, scenes="Episode 1", media="streaming")
    assert use_of(fetch(found)) == "notAllowed"

    consent = grant_consent(
        ann,
        kind="training",
        scenes="Episode 1",
        media="streaming",
        description="Training of a voice model on the recorded dialogue of Episode 1",
    )
    granted = fetch(found)
    assert use_of(granted) == "constrained"
    info = granted["assertion"]["data"]["entries"]["cawg.ai_training"]["constraint_info"]
    assert info.startswith("Allowed only under the 1 written consent this person gave")

    clock.shift(timedelta(days=1))
    consent_revoke(
        actor=UserFactory(), consent=consent, reason="I changed my mind", at=NOW + timedelta(1)
    )
    revoked = fetch(found)
    assert use_of(revoked) == "notAllowed"
    assert revoked["issued_at"] == "2025-06-11T12:00:00+00:00"
    assert revoked["signature"] != granted["signature"]
    # The address did not change.
    assert TrainingStatement.objects.get(person=ann.person).public_id == found.public_id


def test_one_address_per_person_made_once(ann):
    first = training.statement_for(ann.person)
    assert training.statement_for(ann.person) == first
    assert TrainingStatement.objects.count() == 1
    assert first.history.get().history_user.username == "system"


def test_an_unknown_address_is_not_found():
    response = Client().get(f"/training-preferences/{uuid.uuid4()}.json")
    assert response.status_code == 404
    body = json.loads(response.content)
    assert (body["code"], body["fields"]) == ("not_found", {})
    assert Client().get("/training-preferences/not-a-uuid.json").status_code == 404


def test_only_reads_are_answered(ann):
    assert Client().post(url(training.statement_for(ann.person))).status_code == 405


@time_machine.travel(NOW, tick=True)
def test_the_persons_page_links_the_statement(ann):
    client = Client()
    link = personal.link_for(ann.person).removeprefix("http://testserver")
    assert client.get(link).status_code == 302
    page = client.get("/me/page/").content.decode()
    found = TrainingStatement.objects.get(person=ann.person)
    assert f'href="{url(found)}"' in page
    assert "Your AI-training preference" in page
    assert "Today it says your work may not be used to train AI." in page
    grant_consent(
        ann,
        kind="training",
        scenes="Episode 1",
        media="streaming",
        description="Training of a voice model on the recorded dialogue of Episode 1",
    )
    page = client.get("/me/page/").content.decode()
    assert "may be used to train AI only under your written consent to it" in page
