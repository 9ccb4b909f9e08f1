"""The `create_api_key` command, payroll-key authentication, and the production settings."""

import io
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from ledger.models import PayrollKey
from tests.factories import (
    EngagementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    payroll_key,
)
from tests.helpers import assert_error
from tests.throwaway_keys import throwaway_env

BASE_DIR = Path(settings.BASE_DIR)


def create_key(*args) -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out)
    output = out.getvalue()
    return output.strip().splitlines()[-1].strip(), output


def api_get(raw, path="/api/v1/engagements/"):
    return APIClient().get(path, HTTP_AUTHORIZATION=f"Api-Key {raw}")


# --- create_api_key ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_api_key_prints_a_key_that_authenticates_and_is_scoped():
    meridian, northgate = StudioFactory(slug="meridian"), StudioFactory(slug="northgate")
    ours = EngagementFactory(production=ProductionFactory(studio=meridian))
    EngagementFactory(production=ProductionFactory(studio=northgate))

    raw, output = create_key("--studio", "meridian", "--name", "Acme Payroll")

    assert "shown once" in output and "meridian" in output
    key = PayrollKey.objects.get(name="Acme Payroll")
    assert list(key.studios.all()) == [meridian]
    assert key.owner.username == "payroll-acme-payroll"
    assert not key.owner.has_usable_password()
    assert key.revoked is False

    response = api_get(raw)
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [ours.pk]
    # ... and it is read-only
    response = APIClient().patch(
        f"/api/v1/engagements/{ours.pk}/",
        {"role": "x"},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {raw}",
    )
    assert_error(response, 403)


@pytest.mark.django_db
def test_only_the_hash_of_the_key_is_stored():
    StudioFactory(slug="meridian")
    raw, _ = create_key("--studio", "meridian", "--name", "acme")
    prefix, _, secret = raw.partition(".")
    assert prefix and len(secret) >= 20

    key = PayrollKey.objects.get(name="acme")
    stored = {
        field.attname: getattr(key, field.attname) for field in PayrollKey._meta.concrete_fields
    }
    for name, value in stored.items():
        assert raw not in str(value), name
        assert secret not in str(value), name
    assert key.hashed_key and key.hashed_key != raw
    assert PayrollKey.objects.is_valid(raw)
    last = "y" if secret[-1] == "x" else "x"
    assert not PayrollKey.objects.is_valid(f"{prefix}.{secret[:-1]}{last}")
    for row in key.history.all():
        for field in row._meta.concrete_fields:
            assert secret not in str(getattr(row, field.attname)), field.name


@pytest.mark.django_db
def test_create_api_key_for_several_studios_with_a_named_owner():
    a, b = StudioFactory(slug="a-studio"), StudioFactory(slug="b-studio")
    user = UserFactory(username="payroll-bot", is_staff=False)
    raw, _ = create_key(
        "--studio", "a-studio", "--studio", "b-studio", "--name", "multi", "--owner", "payroll-bot"
    )
    key = PayrollKey.objects.get(name="multi")
    assert key.owner == user
    assert set(key.studios.all()) == {a, b}
    assert api_get(raw).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--studio", "nowhere", "--name", "acme"], "Unknown studio: nowhere"),
        (["--studio", "meridian", "--studio", "nowhere", "--name", "acme"], "nowhere"),
        (["--studio", "meridian", "--name", "acme", "--owner", "ghost"], "Unknown user: ghost"),
    ],
    ids=["unknown studio", "one unknown of two", "unknown owner"],
)
def test_create_api_key_refuses_unknown_names_and_creates_nothing(args, message):
    StudioFactory(slug="meridian")
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", *args, stdout=out)
    assert PayrollKey.objects.count() == 0
    assert PayrollKey.history.count() == 0
    assert "." not in out.getvalue()  # no key was printed


@pytest.mark.django_db
def test_create_api_key_needs_a_studio_and_a_name():
    with pytest.raises(CommandError):
        call_command("create_api_key", "--name", "acme", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("create_api_key", "--studio", "meridian", stdout=io.StringIO())


# --- keys that no longer work ------------------------------------------------------------------


@pytest.fixture
def key_and_raw(db):
    studio = StudioFactory(slug="meridian")
    EngagementFactory(production=ProductionFactory(studio=studio))
    return payroll_key(studio, name="acme")


def test_a_revoked_key_gets_401_json(key_and_raw):
    key, raw = key_and_raw
    assert api_get(raw).status_code == 200
    key.revoked = True
    key.save()

    response = api_get(raw)

    body = assert_error(response, 401)
    assert body["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Api-Key"
    assert raw not in response.content.decode()


def test_an_expired_key_gets_401_json(key_and_raw):
    key, raw = key_and_raw
    key.expiry_date = timezone.now() - timedelta(minutes=1)
    key.save()
    assert assert_error(api_get(raw), 401)["code"] == "api_key_expired"


def test_a_key_whose_owner_is_inactive_gets_401_json(key_and_raw):
    key, raw = key_and_raw
    key.owner.is_active = False
    key.owner.save()
    assert assert_error(api_get(raw), 401)["code"] == "authentication_failed"


@pytest.mark.parametrize(
    "header",
    ["Api-Key nonsense", "Api-Key ", "Api-Key a.b", "Api-Key " + "x" * 5000, "Api-Key \u00e9.x"],
)
def test_a_made_up_key_gets_401_json(key_and_raw, header):
    response = APIClient().get("/api/v1/engagements/", HTTP_AUTHORIZATION=header)
    assert assert_error(response, 401)["code"] in (
        "authentication_failed",
        "not_authenticated",
    )


def test_a_tampered_key_gets_401_json(key_and_raw):
    _, raw = key_and_raw
    prefix, _, secret = raw.partition(".")
    tampered = f"{prefix}.{secret[::-1]}"
    assert tampered != raw
    assert assert_error(api_get(tampered), 401)["code"] == "authentication_failed"


def test_no_credentials_get_401_json(db):
    response = APIClient().get("/api/v1/engagements/")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"code", "message", "fields"}


# --- production settings -----------------------------------------------------------------------


def production_env(**overrides) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "WEBHOOK_ALLOW_INSECURE"}
        and not key.startswith(("SECURE_", "SECRET_", "ALLOWED_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="ledger.example.com",
        DATABASE_URL="sqlite:////tmp/x.sqlite3",
        **throwaway_env(),  # production refuses the committed test keys
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def run_manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks():
    env = production_env()
    assert len(env["SECRET_KEY"]) >= 50
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "ERRORS" not in output
    assert "no issues" in output


def test_the_deployment_check_does_catch_a_weak_secret_key():
    """The check above can fail: with a short key it reports security.W009."""
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(SECRET_KEY="short")
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_settings_have_no_defaults_for_secrets(missing):
    result = run_manage("check", env=production_env(**{missing: None}))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"ImproperlyConfigured: Set the {missing} environment variable" in output, output


def test_production_refuses_to_send_webhooks_to_plain_http_or_loopback():
    result = run_manage("check", env=production_env(WEBHOOK_ALLOW_INSECURE="on"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ImproperlyConfigured: WEBHOOK_ALLOW_INSECURE is for local development" in output
