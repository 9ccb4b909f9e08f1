"""Export and erasure through the API, the management commands and the admin: the officer only,
404 outside the caller's scope, JSON errors, refusals that write nothing."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from ledger.models import Person
from privacy.models import ErasureRecord, ExportRecord
from tests.factories import StudioFactory, payroll_key, studio_staff
from tests.helpers import assert_error
from tests.privacy import world as w

REASON = "Art. 17 request received 2025-07-02, ticket DP-114"


def export_url(person_id):
    return f"/api/v1/people/{person_id}/export/"


def erase_url(person_id):
    return f"/api/v1/people/{person_id}/erase/"


def test_the_officer_exports_and_the_export_is_recorded(world, api):
    api.force_authenticate(world.officer)
    response = api.get(export_url(world.maggie.pk))
    assert response.status_code == 200
    assert response.json()["person"]["email"] == w.MAGGIE["email"]
    assert ExportRecord.objects.get().actor == world.officer


def test_studio_staff_who_see_the_person_are_refused(world, api):
    api.force_authenticate(studio_staff(world.production.studio, "meridian-clerk"))
    assert_error(api.get(export_url(world.maggie.pk)), 403, "dpo_only")
    assert_error(api.post(erase_url(world.maggie.pk), {"reason": REASON}), 403, "dpo_only")
    assert not ExportRecord.objects.exists() and not ErasureRecord.objects.exists()


def test_outside_the_callers_scope_the_person_does_not_exist(world, api):
    api.force_authenticate(studio_staff(StudioFactory(), "other-studio"))
    assert_error(api.get(export_url(world.maggie.pk)), 404, "not_found")
    assert_error(api.post(erase_url(world.maggie.pk), {"reason": REASON}), 404, "not_found")


def test_a_missing_person_is_404(world, api):
    api.force_authenticate(world.officer)
    assert_error(api.get(export_url(987654)), 404, "not_found")


def test_anonymous_callers_and_payroll_keys_are_refused(world, api):
    assert api.get(export_url(world.maggie.pk)).status_code in (401, 403)
    _, raw = payroll_key(world.production.studio)
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = api.post(erase_url(world.maggie.pk), {"reason": REASON}, format="json")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"code", "message", "fields"}
    assert Person.objects.get(pk=world.maggie.pk).legal_name == w.MAGGIE["legal_name"]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 2001}, {"reason": None}])
def test_bad_input_is_a_json_400_that_writes_nothing(world, api, body):
    api.force_authenticate(world.officer)
    response = api.post(erase_url(world.maggie.pk), body, format="json")
    body = assert_error(response, 400, "invalid")
    assert "reason" in body["fields"]
    assert not ErasureRecord.objects.exists()
    assert Person.objects.get(pk=world.maggie.pk).legal_name == w.MAGGIE["legal_name"]


def test_erase_then_erase_again(world, api, django_capture_on_commit_callbacks):
    api.force_authenticate(world.officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(erase_url(world.maggie.pk), {"reason": REASON}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["person"] == world.maggie.pk and body["actor"] == "dpo"
    assert body["pseudonym"] == Person.objects.get(pk=world.maggie.pk).legal_name
    again = api.post(erase_url(world.maggie.pk), {"reason": REASON}, format="json")
    assert_error(again, 409, "already_erased")


def test_money_due_is_a_409_naming_the_payables(world, api):
    api.force_authenticate(world.officer)
    body = assert_error(
        api.post(erase_url(world.theo.pk), {"reason": REASON}, format="json"), 409, "payables_due"
    )
    assert body["fields"] == {"payables": [world.theo_payable.pk]}


# --- management commands ---------------------------------------------------------------------


def test_export_person_command_writes_the_json(world, tmp_path):
    out = tmp_path / "export.json"
    call_command("export_person", str(world.maggie.pk), "--actor", "dpo", "--output", str(out))
    assert json.loads(out.read_text())["person"]["payroll_ref"] == w.MAGGIE["payroll_ref"]
    assert ExportRecord.objects.get().actor == world.officer


def test_erase_person_command_and_its_refusals(world, capsys):
    with pytest.raises(CommandError, match="payables_due"):
        call_command("erase_person", str(world.theo.pk), "--reason", REASON)
    with pytest.raises(CommandError, match="no active administrator"):
        call_command("erase_person", str(world.maggie.pk), "--reason", REASON, "--actor", "clerk")
    call_command("erase_person", str(world.maggie.pk), "--reason", REASON, "--actor", "dpo")
    record = ErasureRecord.objects.get()
    assert record.actor == world.officer
    assert record.pseudonym in capsys.readouterr().out
    with pytest.raises(CommandError, match="already_erased"):
        call_command("erase_person", str(world.maggie.pk), "--reason", REASON)


# --- admin -----------------------------------------------------------------------------------


def _changelist_post(client, action, person, **extra):
    return client.post(
        reverse("admin:ledger_person_changelist"),
        {"action": action, "_selected_action": [person.pk], **extra},
    )


def test_admin_actions_export_and_erase_for_the_officer(world, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(world.officer)
    exported = _changelist_post(client, "export_personal_data", world.maggie)
    assert exported["Content-Type"] == "application/json"
    assert json.loads(exported.content)["person"]["legal_name"] == w.MAGGIE["legal_name"]
    confirm = _changelist_post(client, "erase_personal_data", world.maggie)
    assert confirm.status_code == 200 and b"Erase personal data" in confirm.content
    assert not ErasureRecord.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = _changelist_post(
            client, "erase_personal_data", world.maggie, confirm="yes", reason=REASON
        )
    assert done.status_code == 302
    assert ErasureRecord.objects.get().actor == world.officer


def test_admin_actions_are_not_offered_to_studio_staff(world):
    clerk = studio_staff(world.production.studio, "meridian-clerk")
    clerk.is_staff = True
    clerk.save()
    client = Client()
    client.force_login(clerk)
    page = client.get(reverse("admin:ledger_person_changelist"))
    assert page.status_code == 200
    assert b"erase_personal_data" not in page.content
    _changelist_post(client, "erase_personal_data", world.maggie, confirm="yes", reason=REASON)
    assert not ErasureRecord.objects.exists()


def test_an_erased_evidence_document_is_a_409_not_a_500(world, api):
    api.force_authenticate(world.officer)
    api.post(erase_url(world.maggie.pk), {"reason": REASON}, format="json")
    response = api.get(f"/api/v1/consents/{world.maggie_consent.pk}/evidence/")
    assert_error(response, 409, "evidence_erased")
    assert api.get(f"/api/v1/consents/{world.theo_consent.pk}/evidence/").status_code == 200


def test_exports_erasures_and_refusals_are_security_events(
    world, api, caplog, django_capture_on_commit_callbacks
):
    api.force_authenticate(world.officer)
    with caplog.at_level("INFO", logger="guild_ledger.security"):
        with django_capture_on_commit_callbacks(execute=True):
            api.get(export_url(world.maggie.pk))
            api.post(erase_url(world.theo.pk), {"reason": REASON}, format="json")
            api.post(erase_url(world.maggie.pk), {"reason": REASON}, format="json")
    events = [r.security_event for r in caplog.records if hasattr(r, "security_event")]
    # Successes are logged once committed, the refusal at once: compare without order.
    summary = {(e["action"], e["object"], e["outcome"], e.get("code")) for e in events}
    assert len(events) == 3 and summary == {
        ("privacy.export", f"person:{world.maggie.pk}", "success", None),
        ("privacy.erase", f"person:{world.theo.pk}", "denied", "payables_due"),
        ("privacy.erase", f"person:{world.maggie.pk}", "success", None),
    }
    assert all(e["actor"] == f"user:{world.officer.pk}" for e in events)
    assert not any(v in caplog.text for v in w.MAGGIE_VALUES)
