# ruff: noqa: F811  (the fixture `world` of test_label is imported, then named by the tests)
"""The disclosure label's signed files: a PDF and a PNG, each with a C2PA manifest (read back with
c2pa's own Reader) whose assertions say what the label says, who made it, and whether the
production's people allow AI training; a changed byte breaks it; the test certificate is reported
untrusted; the files are served like the page (and not found when it is), and kept while the
label is unchanged."""

import io
import os
import subprocess
import sys
import uuid
import zlib
from datetime import UTC, datetime
from pathlib import Path

import c2pa
import pypdf
import pytest
import time_machine
from django.test import Client
from PIL import Image

from config.c2pa_test.generate import write_chain
from consent.services import consent_revoke
from core.security import content_credentials, signing
from ledger.journal import checkpoints
from ledger.models import Checkpoint
from reports import credentials, label
from reports.models import DisclosureLabel
from tests.factories import EngagementFactory, ProductionFactory, grant_consent
from tests.reports.test_label import media, publish, world  # noqa: F401  # fixtures

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent
NOW = datetime(2025, 7, 1, 12, tzinfo=UTC)


def url(public_id, extension: str) -> str:
    return f"/disclosure/{public_id}.{extension}"


def read(data: bytes, mime: str) -> c2pa.Reader:
    return c2pa.Reader(mime, io.BytesIO(data))


def assertions(reader: c2pa.Reader) -> dict:
    manifest = reader.get_active_manifest()
    assert manifest is not None
    return {a["label"]: a["data"] for a in manifest["assertions"]}


def failures(reader: c2pa.Reader) -> set[str]:
    results = reader.get_validation_results() or {}
    return {f["code"] for f in results.get("activeManifest", {}).get("failure", [])}


def fetch(client: Client, public_id, extension: str):
    response = client.get(url(public_id, extension))
    assert response.status_code == 200, response.content[:300]
    return response


@pytest.fixture
def checkpoint():
    """A checkpoint signed with the installation's key (the test key), and a newer forged one
    the label must pass over."""
    fields = {"seq": 7, "head_hash": "ab" * 32, "created_at": datetime(2025, 6, 30, 23, tzinfo=UTC)}
    message = checkpoints.checkpoint_message(**fields, key_id=signing.key_id())
    signed = Checkpoint.objects.create(
        **fields, key_id=signing.key_id(), signature=signing.sign(message), reason="manual"
    )
    Checkpoint.objects.create(
        **{**fields, "seq": 8}, key_id=signing.key_id(), signature=signed.signature, reason="manual"
    )
    return signed


def training(engagement, actor):
    return grant_consent(
        engagement,
        actor=actor,
        kind="training",
        scenes="Episode 3",
        media="streaming",
        description="Training of a voice model on the recorded dialogue of Episode 3",
    )


# --- what the files say ----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("extension", ["png", "pdf"])
def test_each_file_carries_the_labels_content_signed(world, checkpoint, extension):
    published = publish(world)
    response = fetch(Client(), published.public_id, extension)
    assert response["Content-Type"] == credentials.MIME[extension]
    assert response["Content-Disposition"] == (
        f'inline; filename="ai-disclosure-the-long-light.{extension}"'
    )
    reader = read(response.content, credentials.MIME[extension])
    assert reader.is_embedded()
    found = assertions(reader)

    actions = found["c2pa.actions.v2"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.created"]
    assert actions[0]["softwareAgent"]["name"] == "Guild Ledger"
    assert actions[0]["digitalSourceType"].endswith("/algorithmicMedia")

    disclosure = found["org.guildledger.ai-disclosure"]
    content = label.content(world["light"])
    assert disclosure["public_id"] == str(published.public_id)
    assert disclosure["uses"] == content["uses"]
    assert disclosure["uses"]["replica_creation"] == {
        "recorded": 4,
        "people": 3,
        "allowed": 4,
        "violations": 0,
    }
    assert disclosure["consent_basis"] == content["consent_basis"]
    assert disclosure["union_notices"] == content["union_notices"]
    assert disclosure["writers"] == {"received_ai_material": 2, "disclosed": 1}
    assert disclosure["last_compliance_report"] is None
    assert disclosure["ledger_checkpoint"] == checkpoints.as_dict(checkpoint)
    assert disclosure["ledger_checkpoint"]["seq"] == 7
    # Nobody on the production consented to AI training.
    assert found["cawg.training-mining"] == {
        "entries": {
            "cawg.ai_generative_training": {"use": "notAllowed"},
            "cawg.ai_training": {"use": "notAllowed"},
            "cawg.ai_inference": {"use": "notAllowed"},
            "cawg.data_mining": {"use": "notAllowed"},
        }
    }
    # Signed and intact, by a certificate nobody trusts: the public test chain.
    assert reader.get_validation_state() == "Valid"
    assert failures(reader) == {"signingCredential.untrusted"}
    signature = reader.get_active_manifest()["signature_info"]
    assert signature["common_name"] == "Guild Ledger TEST Content Credentials"


def test_the_files_are_still_a_pdf_and_a_png_of_the_label(world):
    published = publish(world)
    client = Client()
    document = pypdf.PdfReader(io.BytesIO(fetch(client, published.public_id, "pdf").content))
    text = "".join(page.extract_text() for page in document.pages)
    assert "AI disclosure: The Long Light" in text and "Ann Vale" in text
    assert "Signed copies" not in text  # the page links the files; the PDF does not
    image = Image.open(io.BytesIO(fetch(client, published.public_id, "png").content))
    assert image.format == "PNG"
    # The label on one portrait A4 page; the PNG, that page at 144 dpi cut to what is drawn on
    # it, with a white margin.
    assert [(round(p.mediabox.width), round(p.mediabox.height)) for p in document.pages] == [
        (595, 842)
    ]
    assert 600 < image.width < 2 * 595 and 300 < image.height < 2 * 842
    rgb = image.convert("RGB")
    corners = [(0, 0), (image.width - 1, 0), (0, image.height - 1)]
    assert {rgb.getpixel(xy) for xy in corners} == {(255, 255, 255)}


def test_without_a_checkpoint_the_file_says_so(world):
    published = publish(world)
    reader = read(fetch(Client(), published.public_id, "png").content, "image/png")
    assert assertions(reader)["org.guildledger.ai-disclosure"]["ledger_checkpoint"] is None


@time_machine.travel(NOW, tick=False)
def test_training_is_allowed_only_as_far_as_the_people_consented(world):
    production = ProductionFactory(studio=world["studio"], title="Small Hours")
    one = EngagementFactory(production=production, person__payroll_ref="SH-1")
    two = EngagementFactory(production=production, person__payroll_ref="SH-2")
    entries = lambda: credentials.production_training(production)["entries"]  # noqa: E731

    assert entries()["cawg.ai_training"] == {"use": "notAllowed"}
    first = training(one, world["actor"])
    assert entries()["cawg.ai_generative_training"] == {
        "use": "constrained",
        "constraint_info": "1 of the 2 people of this production consented to AI training; "
        "the others did not.",
    }
    training(two, world["actor"])
    assert entries()["cawg.ai_generative_training"] == {"use": "allowed"}
    assert entries()["cawg.ai_training"] == {"use": "allowed"}
    assert entries()["cawg.ai_inference"] == {"use": "notAllowed"}  # no consent licenses it
    consent_revoke(actor=world["actor"], consent=first, reason="Changed my mind", at=NOW)
    assert entries()["cawg.ai_generative_training"]["use"] == "constrained"

    # And the signed file states it.
    found = publish(world, production=production)
    reader = read(fetch(Client(), found.public_id, "png").content, "image/png")
    stated = assertions(reader)["cawg.training-mining"]["entries"]
    assert stated["cawg.ai_generative_training"]["use"] == "constrained"


# --- tampering -------------------------------------------------------------------------------


def _png_chunks(data: bytes):
    at = 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        yield at, data[at + 4 : at + 8], length
        at += 12 + length


def test_a_changed_pixel_breaks_the_png(world):
    published = publish(world)
    signed = fetch(Client(), published.public_id, "png").content
    at, _, length = next(c for c in _png_chunks(signed) if c[1] == b"IDAT")
    body = bytearray(signed[at + 8 : at + 8 + length])
    body[length // 2] ^= 0xFF
    # A valid chunk CRC, so that the file is still a PNG and only the content differs.
    crc = zlib.crc32(b"IDAT" + bytes(body)).to_bytes(4, "big")
    edited = signed[: at + 8] + bytes(body) + crc + signed[at + 12 + length :]
    assert len(edited) == len(signed) and edited != signed

    intact = read(signed, "image/png")
    assert intact.get_validation_state() == "Valid"
    reader = read(edited, "image/png")
    assert reader.get_validation_state() == "Invalid"
    assert "assertion.dataHash.mismatch" in failures(reader)


def test_a_changed_byte_breaks_the_pdf(world):
    published = publish(world)
    signed = fetch(Client(), published.public_id, "pdf").content
    where = signed.index(b"/Producer")
    edited = signed[:where] + b"/Producex" + signed[where + len(b"/Producer") :]
    reader = read(edited, "application/pdf")
    assert reader.get_validation_state() == "Invalid"
    assert "assertion.dataHash.mismatch" in failures(reader)


# --- serving ---------------------------------------------------------------------------------


def test_the_page_links_the_signed_files(world):
    published = publish(world)
    page = Client().get(f"/disclosure/{published.public_id}/").content.decode()
    assert f'href="{url(published.public_id, "pdf")}"' in page
    assert f'href="{url(published.public_id, "png")}"' in page


def test_an_unpublished_withdrawn_or_unknown_label_has_no_files(world, settings):
    client = Client()
    never = DisclosureLabel.objects.create(production=world["light"])
    for public_id in (uuid.uuid4(), never.public_id):
        for extension in ("pdf", "png"):
            assert client.get(url(public_id, extension)).status_code == 404
    published = publish(world)
    assert client.get(url(published.public_id, "png")).status_code == 200
    settings.DISCLOSURE_LABELS_PUBLISHED = False
    assert client.get(url(published.public_id, "png")).status_code == 404
    assert client.get(f"/disclosure/{published.public_id}/").status_code == 404
    settings.DISCLOSURE_LABELS_PUBLISHED = True
    publish(world, published=False)
    assert client.get(url(published.public_id, "pdf")).status_code == 404
    assert client.post(url(never.public_id, "pdf")).status_code == 405


def test_an_unchanged_label_is_signed_once_and_revalidated(world, monkeypatch):
    published = publish(world)
    client = Client()
    first = fetch(client, published.public_id, "pdf")
    assert first["Cache-Control"] == "public, no-cache"
    assert first["ETag"].startswith('"')
    page = client.get(f"/disclosure/{published.public_id}/")
    assert page["Cache-Control"] == "public, no-cache"

    def refuse(*args, **kwargs):
        raise AssertionError("signed again")

    monkeypatch.setattr(credentials, "sign", refuse)
    # The PNG was made with the PDF; neither is made again while the label is unchanged.
    assert fetch(client, published.public_id, "pdf").content == first.content
    fetch(client, published.public_id, "png")
    again = client.get(url(published.public_id, "pdf"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304

    monkeypatch.undo()
    grant_consent(
        EngagementFactory(production=world["light"], person__payroll_ref="NEW-1"),
        actor=world["actor"],
        scenes="Episode 3",
        media="streaming",
        named_in_disclosure=True,
    )
    changed = fetch(client, published.public_id, "pdf")
    assert changed["ETag"] != first["ETag"] and changed.content != first.content
    stored = list((Path(credentials.default_storage.location) / "disclosure-labels").rglob("*"))
    assert len([p for p in stored if p.is_file()]) == 2  # the older pair is gone


# --- configuration ---------------------------------------------------------------------------


def test_the_test_certificate_is_known_as_such(tmp_path):
    assert content_credentials.is_test_certificate(
        content_credentials.pem_text(content_credentials.TEST_CERT, "cert")
    )
    cert, key = write_chain(tmp_path)
    assert not content_credentials.is_test_certificate(cert.read_text())
    assert content_credentials.algorithm(key.read_text()) == "es256"
    assert content_credentials.production_problem(str(cert), key.read_text()) is None


def production_env(**overrides) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
        and not key.startswith(("C2PA_", "DISCLOSURE_", "SECRET_", "ALLOWED_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="production-settings-test-" + "k" * 50,
        ALLOWED_HOSTS="ledger.example.com",
        DATABASE_URL="sqlite:////tmp/x.sqlite3",
        SIGNING_KEY="2YCeFHfsbjnkJb4FBvgU2o7iqVNFHs6f8HQjPw2tdbQ=",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def load_production(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_publish_labels_without_its_own_certificate(tmp_path):
    cert, key = write_chain(tmp_path)
    refused = {
        "no certificate": {},
        "no key": {"C2PA_SIGNING_CERT": str(cert)},
        "the test certificate": {
            "C2PA_SIGNING_CERT": content_credentials.TEST_CERT,
            "C2PA_SIGNING_KEY": content_credentials.TEST_KEY,
        },
        "an unreadable file": {"C2PA_SIGNING_CERT": "/nonexistent.pem", "C2PA_SIGNING_KEY": "x"},
    }
    for why, extra in refused.items():
        result = load_production(production_env(**extra))
        assert result.returncode != 0, why
        assert "ImproperlyConfigured" in result.stderr, (why, result.stderr)
        assert "C2PA_SIGNING_CERT" in result.stderr, (why, result.stderr)

    own = {"C2PA_SIGNING_CERT": str(cert), "C2PA_SIGNING_KEY": key.read_text()}
    assert load_production(production_env(**own)).returncode == 0
    # Nothing published: no certificate needed.
    off = load_production(production_env(DISCLOSURE_LABELS_PUBLISHED="off"))
    assert off.returncode == 0, off.stderr


def test_signing_a_label_is_measured_and_quick_enough_to_cache(world, capsys):
    """Drawing and signing both files takes well under the request budget once; the stored copy
    takes a read."""
    import time

    published = publish(world)
    client = Client()
    started = time.perf_counter()
    fetch(client, published.public_id, "png")
    made = time.perf_counter() - started
    started = time.perf_counter()
    fetch(client, published.public_id, "png")
    kept = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nlabel files drawn and signed in {made:.3f}s, served from storage in {kept:.3f}s")
    assert kept < made
