"""Whole jobs done in the staff admin, through the services, with the Django test client: attaching
agreements from a production's page; importing engagements from CSV (a preview that writes
nothing, every row error listed, then "Confirm import" recording every row or none); recording a
consent with its evidence; recording an AI use and seeing its decision; starting, reading and
approving a compensation run, then its payables; revoking a consent after seeing the uses it
takes away. Every form labels its fields, and a refused form writes nothing."""

import hashlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from compensation.models import CompensationRun
from consent.models import AiUse, Consent, ConsentEvent
from consent.services import ai_use_record
from ledger.access import Scope
from ledger.models import Engagement, JournalTransaction, Payable, ProductionAgreement
from ledger.registry import engagement_import
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    record_day,
)
from tests.factories import (
    SPECIFIC,
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
from tests.helpers import acknowledge_all, csv_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world():
    alpha = StudioFactory(name="Alpha Pictures", slug="alpha")
    bravo = StudioFactory(name="Bravo Studios", slug="bravo")
    film = ProductionFactory(studio=alpha, title="Alpha Film")
    ProductionAgreementFactory(production=film, agreement=agreement("sag-tvth-2023"))
    other = ProductionFactory(studio=bravo, title="Bravo Film")
    ProductionAgreementFactory(production=other, agreement=agreement("sag-tvth-2023"))
    return {
        "alpha": alpha,
        "film": film,
        "other": other,
        "ann": PersonFactory(legal_name="Ann Actor", payroll_ref="PR-ANN", registered_by=alpha),
        "abe": PersonFactory(legal_name="Abe Writer", payroll_ref="PR-ABE", registered_by=alpha),
        "bob": PersonFactory(legal_name="Bob Other", payroll_ref="PR-BOB", registered_by=bravo),
        "alice": studio_staff(alpha, "alice"),
        "sally": guild_staff("sag-aftra", "sally"),
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def unlabelled_fields(page: str, form_id: str | None = None) -> list[str]:
    """Ids of the visible inputs, selects and textareas (of one form) with neither a
    <label for=id> nor an aria-label."""
    if form_id:
        page = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S).group(0)
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', page))
    fields = re.findall(r"<(input|select|textarea)\b([^>]*)>", page)
    missing = []
    for tag, attrs in fields:
        kind = re.search(r'type="([^"]+)"', attrs)
        if tag == "input" and kind and kind.group(1) in ("hidden", "submit"):
            continue
        if "aria-label=" in attrs:
            continue
        field_id = re.search(r'id="([^"]+)"', attrs)
        if field_id is None or field_id.group(1) not in labelled:
            missing.append(field_id.group(1) if field_id else attrs)
    return missing


# --- 1. agreements attached from the production's page ---------------------------------------


def production_page(client, production):
    return client.get(reverse("admin:ledger_production_change", args=[production.pk]))


def test_the_production_page_has_an_agreements_section_with_an_attach_form(world):
    page = html(production_page(logged_in(world["alice"]), world["film"]))
    section = re.search(r'<div class="module" id="agreements">.*?</div>\s*$', page, re.S | re.M)
    assert section, "no Agreements section"
    assert "<h2>Agreements</h2>" in page
    assert "sag-tvth-2023" in section.group(0)
    label = re.search(r'<label for="([^"]+)"[^>]*>Agreement</label>', page)
    assert label and f'<select name="attach-agreement" required id="{label.group(1)}"' in page
    assert ">Attach agreement</button>" in page
    assert unlabelled_fields(page, "attach-agreement") == []


def test_attaching_and_detaching_go_through_the_service_with_history(world):
    client = logged_in(world["alice"])
    film, wga = world["film"], agreement("wga-mba-2023")
    response = client.post(
        reverse("admin:ledger_production_attach", args=[film.pk]),
        {"attach-agreement": wga.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(
        f"/admin/ledger/production/{film.pk}/change/#agreements"
    )
    assert "wga-mba-2023 is attached to Alpha Film." in messages_of(response)
    attachment = ProductionAgreement.objects.get(production=film, agreement=wga)
    assert attachment.history.get().history_user == world["alice"]
    assert f'value="{wga.pk}"' not in re.search(
        r'<select name="attach-agreement".*?</select>', html(response), re.S
    ).group(0), "an attached agreement is no longer offered"

    response = client.post(
        reverse("admin:ledger_production_detach", args=[film.pk]),
        {"detach-agreement": wga.pk},
        follow=True,
    )
    assert "wga-mba-2023 is detached from Alpha Film." in messages_of(response)
    assert not ProductionAgreement.objects.filter(production=film, agreement=wga).exists()
    deleted = ProductionAgreement.history.filter(agreement_id=wga.pk, history_type="-").get()
    assert deleted.history_user == world["alice"]


def test_detaching_an_agreement_in_use_is_refused_and_changes_nothing(world):
    EngagementFactory(person=world["ann"], production=world["film"])
    sag = agreement("sag-tvth-2023")
    response = logged_in(world["alice"]).post(
        reverse("admin:ledger_production_detach", args=[world["film"].pk]),
        {"detach-agreement": sag.pk},
        follow=True,
    )
    assert any("are under sag-tvth-2023" in m for m in messages_of(response))
    assert ProductionAgreement.objects.filter(production=world["film"], agreement=sag).exists()


def test_attaching_without_choosing_an_agreement_is_an_error(world):
    before = ProductionAgreement.history.count()
    response = logged_in(world["alice"]).post(
        reverse("admin:ledger_production_attach", args=[world["film"].pk]),
        {"attach-agreement": ""},
        follow=True,
    )
    assert "Choose an agreement to attach." in messages_of(response)
    assert ProductionAgreement.history.count() == before


def test_guild_staff_see_the_agreements_but_cannot_attach(world):
    client = logged_in(world["sally"])
    page = html(production_page(client, world["film"]))
    assert 'id="agreements"' in page and "sag-tvth-2023" in page
    assert "Attach agreement" not in page and ">Detach<" not in page
    response = client.post(
        reverse("admin:ledger_production_attach", args=[world["film"].pk]),
        {"attach-agreement": agreement("wga-mba-2023").pk},
    )
    assert response.status_code == 403
    assert world["film"].attachments.count() == 1


def test_another_studios_production_cannot_be_attached_to(world):
    response = logged_in(world["alice"]).post(
        reverse("admin:ledger_production_attach", args=[world["other"].pk]),
        {"attach-agreement": agreement("wga-mba-2023").pk},
    )
    assert response.status_code == 404
    assert world["other"].attachments.count() == 1


def test_a_new_production_opens_on_its_agreements(world):
    client = logged_in(world["alice"])
    response = client.post(
        reverse("admin:ledger_production_add"),
        {
            "studio": world["alpha"].pk,
            "title": "Alpha Sequel",
            "kind": "theatrical",
            "start_date": "2026-01-05",
            "status": "development",
            "budget_tier": "",
        },
    )
    assert response.status_code == 302
    production = world["alpha"].productions.get(title="Alpha Sequel")
    assert response["Location"].endswith(f"/{production.pk}/change/#agreements")


# --- 2. engagements imported from CSV ---------------------------------------------------------

IMPORT_URL = "/admin/ledger/engagement/import/"
HEADER = ",".join(engagement_import.COLUMNS)


def csv_file(*rows: str, header: str = HEADER) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "cast.csv", ("\n".join([header, *rows]) + "\n").encode(), content_type="text/csv"
    )


def good_rows(world) -> list[str]:
    film = world["film"].pk
    return [
        f"PR-ANN,,{film},sag-tvth-2023,day_performer,Detective Hale,1500.00,day,USD,2025-06-02,",
        f",{world['abe'].pk},{film},sag-tvth-2023,weekly_performer,,5200,week,,"
        "2025-06-09,2025-07-31",
    ]


def preview_rows(page: str) -> list[str]:
    table = re.search(r'<table id="import-preview">.*?</table>', page, re.S)
    assert table, "no preview table"
    return re.findall(r"<tr class=\"(row-error|row-ok)\">", table.group(0))


def confirm_content(page: str) -> str:
    return re.search(r'<input type="hidden" name="content" value="([^"]+)"', page).group(1)


def test_the_engagement_list_links_to_the_import(world):
    page = html(logged_in(world["alice"]).get(reverse("admin:ledger_engagement_changelist")))
    assert f'<a href="{IMPORT_URL}" class="addlink">Import from CSV</a>' in page
    guild_page = html(logged_in(world["sally"]).get(reverse("admin:ledger_engagement_changelist")))
    assert "Import from CSV" not in guild_page
    assert logged_in(world["sally"]).get(IMPORT_URL).status_code == 403


def test_the_upload_page_documents_the_columns_and_offers_a_template(world):
    client = logged_in(world["alice"])
    page = html(client.get(IMPORT_URL))
    assert re.search(r'<label for="id_file" class="required">CSV file</label>', page)
    assert unlabelled_fields(page, "upload-csv") == []
    for column in engagement_import.COLUMNS:
        assert f"<code>{column}</code>" in page
    assert "Alpha Film" in page and "Bravo Film" not in page  # the caller's productions, with ids
    template = client.get(reverse("admin:ledger_engagement_import_template"))
    assert template["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_text(template).splitlines()[0] == HEADER


def test_a_preview_lists_every_rows_errors_and_writes_nothing(world):
    client = logged_in(world["alice"])
    film = world["film"].pk
    before = (Engagement.objects.count(), Engagement.history.count())
    rows = [
        *good_rows(world),
        f"PR-NOBODY,,{film},sag-tvth-2023,day_performer,,0,day,USD,2025-06-02,",
        f"PR-ANN,,{film},wga-mba-2023,writer,,1500,week,USD,2025-06-02,",
        f"PR-ANN,,{film},sag-tvth-2023,day_performer,,abc,day,USD,2025-06-31,",
        f"PR-ANN,,{world['other'].pk},sag-tvth-2023,day_performer,,1500,day,USD,2025-06-02,",
        f"PR-ANN,,{film},sag-tvth-2023,writer,,1500,day,XXX,2025-06-02,2025-06-01",
    ]
    response = client.post(IMPORT_URL, {"file": csv_file(*rows)})
    assert response.status_code == 200
    page = html(response)
    assert preview_rows(page) == ["row-ok", "row-ok"] + ["row-error"] * 5
    expected = [
        (4, "payroll_ref", "No person with payroll reference 'PR-NOBODY'."),
        (4, "row", "The rate must be above zero."),  # every problem of a row at once
        (5, "agreement", "This agreement is not attached to the production."),
        (6, "rate_amount", "“abc” value must be a decimal number."),
        (6, "start_date", "but it is an invalid date"),
        (7, "production", f"No production with id {world['other'].pk} in your studios."),
        (8, "rate_currency", "Value 'XXX' is not a valid choice."),
        (8, "classification", "writer is a wga classification"),
        (8, "row", "The end date cannot be before the start date."),
    ]
    for row, column, message in expected:
        assert re.search(
            rf"<li>row {row}, <code>{column}</code>: [^<]*{re.escape(message)}", unescape(page)
        ), (row, column, message)
    assert len(re.findall(r"<li>row \d+, <code>", page)) == len(expected)  # and no others
    assert "Confirm import" not in page and 'name="content"' not in page
    assert (Engagement.objects.count(), Engagement.history.count()) == before


def test_confirm_writes_exactly_the_previewed_rows_with_history(world):
    client = logged_in(world["alice"])
    before = Engagement.objects.count()
    preview = client.post(IMPORT_URL, {"file": csv_file(*good_rows(world))})
    page = html(preview)
    assert preview_rows(page) == ["row-ok", "row-ok"]
    assert f"Ann Actor (#{world['ann'].pk})" in page and "Alpha Film (#" in page
    assert 'value="Confirm import"' in page
    assert Engagement.objects.count() == before  # the preview writes nothing

    done = client.post(IMPORT_URL, {"content": confirm_content(page), "confirm": "Confirm import"})
    assert done.status_code == 302 and done["Location"] == reverse(
        "admin:ledger_engagement_changelist"
    )
    created = list(Engagement.objects.order_by("pk")[before:])
    assert [
        (e.person, e.classification, e.role, e.rate_amount, e.rate_unit, e.rate_currency)
        for e in created
    ] == [
        (world["ann"], "day_performer", "Detective Hale", Decimal("1500.00"), "day", "USD"),
        (world["abe"], "weekly_performer", "", Decimal("5200.00"), "week", "USD"),
    ]
    assert (created[1].start_date, created[1].end_date) == (date(2025, 6, 9), date(2025, 7, 31))
    for engagement in created:
        history = engagement.history.get()
        assert (history.history_type, history.history_user) == ("+", world["alice"])

    # The same file again: every row is already recorded, so nothing more is written.
    again = client.post(IMPORT_URL, {"content": confirm_content(page), "confirm": "Confirm import"})
    assert again.status_code == 200
    assert f"Already recorded as engagement #{created[0].pk}." in html(again)
    assert "Confirm import" not in html(again)
    assert Engagement.objects.count() == before + 2


def test_a_confirmation_that_was_not_previewed_writes_nothing(world):
    client = logged_in(world["alice"])
    before = Engagement.objects.count()
    response = client.post(
        IMPORT_URL, {"content": HEADER + "\n" + good_rows(world)[0], "confirm": "1"}
    )
    assert response.status_code == 200
    assert "does not match a previewed file" in html(response)
    # Another user's signed preview does not confirm for this one either.
    page = html(logged_in(world["alice"]).post(IMPORT_URL, {"file": csv_file(*good_rows(world))}))
    other = studio_staff(world["alpha"], "alex")
    response = logged_in(other).post(IMPORT_URL, {"content": confirm_content(page), "confirm": "1"})
    assert "does not match a previewed file" in html(response)
    assert Engagement.objects.count() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"person,production\n1,2\n", "missing column agreement"),
        (HEADER.encode() + b"\n", "The CSV holds no rows under its header."),
        (b"\xff\xfe\x00bad", "The file is not UTF-8 text"),
        (HEADER.encode() + b",colour\n", "unknown column &#x27;colour&#x27;"),
        (b'"' + b"x" * 200_000 + b'"\n', "The header is not valid CSV"),
        (HEADER.encode() + b"\n" + b"x" * (1 << 20), "The file is larger than 1024 KiB"),
        (
            HEADER.encode() + b'\nPR-ANN,"' + b"x" * 200_000 + b'"\n',
            "The CSV cannot be read after line 1",
        ),
    ],
)
def test_an_unusable_file_is_a_form_error(world, content, message):
    response = logged_in(world["alice"]).post(
        IMPORT_URL, {"file": SimpleUploadedFile("x.csv", content, content_type="text/csv")}
    )
    assert response.status_code == 200
    assert message in html(response)
    assert 'id="import-preview"' not in html(response)


def test_rows_repeating_each_other_are_refused(world):
    row = good_rows(world)[0]
    page = html(logged_in(world["alice"]).post(IMPORT_URL, {"file": csv_file(row, row)}))
    assert preview_rows(page) == ["row-ok", "row-error"]
    assert "Repeats row 2." in page


# --- 3. a consent with its evidence -----------------------------------------------------------


def consent_form(engagement, **overrides) -> dict:
    data = {
        "person": engagement.person_id,
        "production": engagement.production_id,
        "kind": "replica_creation",
        "description": SPECIFIC,
        "term_from": "2025-06-01",
        "instrument": "rider",
        "signed_at_0": "2025-06-01",
        "signed_at_1": "12:00:00",
        "signed_by": "Ann Actor",
        "signed_by_capacity": "self",
        "represented_by": "none",
        "notice_at_0": "2025-06-01",
        "notice_at_1": "12:00:00",
        "bargained_currency": "USD",
    }
    data.update(overrides)
    return data


@pytest.fixture
def engaged(world):
    return EngagementFactory(person=world["ann"], production=world["film"])


def test_the_consent_form_labels_every_field_and_stores_the_evidence_hash(world, engaged):
    client = logged_in(world["alice"])
    page = html(client.get(reverse("admin:consent_consent_add")))
    assert 'enctype="multipart/form-data"' in page
    assert unlabelled_fields(page, "consent_form") == []
    content = b"%PDF-1.4 rider signed by Ann"
    response = client.post(
        reverse("admin:consent_consent_add"),
        consent_form(engaged, evidence=evidence_file(content, "rider.pdf")),
    )
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert consent.evidence_sha256 == hashlib.sha256(content).hexdigest()
    assert consent.evidence_size == len(content)
    assert consent.history.get().history_user == world["alice"]


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        (None, "This field is required."),
        (evidence_file(b"", "empty.pdf"), "The submitted file is empty."),
    ],
)
def test_a_consent_without_usable_evidence_is_refused(world, engaged, evidence, message):
    data = consent_form(engaged)
    if evidence is not None:
        data["evidence"] = evidence
    response = logged_in(world["alice"]).post(reverse("admin:consent_consent_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["evidence"] == [message]
    assert Consent.objects.count() == 0 and Consent.history.count() == 0


# --- 4. an AI use and its decision, at once ---------------------------------------------------


def record_use_in_admin(client, engagement, kind, starts="2025-06-10"):
    return client.post(
        reverse("admin:consent_aiuse_add"),
        {
            "production": engagement.production_id,
            "person": engagement.person_id,
            "kind": kind,
            "starts_at_0": starts,
            "starts_at_1": "09:00:00",
            "days": "1",
            "description": "Replica in scene 12",
        },
        follow=True,
    )


def test_a_use_no_consent_covers_shows_the_violation_badge_with_rules_and_reasons(world, engaged):
    response = record_use_in_admin(logged_in(world["alice"]), engaged, "replica_use")
    use = AiUse.objects.get()
    assert response.redirect_chain == [(reverse("admin:consent_aiuse_change", args=[use.pk]), 302)]
    page = html(response)
    assert re.search(r'<span class="gl-badge badge badge-violation"[^>]*>violation</span>', page)
    assert "badge-allowed" not in page
    assert use.status == "violation" and use.rules
    for rule in use.rules:
        assert rule in page
    for reason in use.reasons:
        assert reason.split("'")[0] in page
    assert any(m.startswith("Recorded as violation") for m in messages_of(response))


def test_a_consented_use_shows_the_allowed_badge_and_the_consent_relied_on(world, engaged):
    consent = grant_consent(engaged)
    response = record_use_in_admin(logged_in(world["alice"]), engaged, "replica_creation")
    use = AiUse.objects.get()
    assert use.status == "allowed" and use.consent == consent
    page = html(response)
    assert re.search(r'<span class="gl-badge badge badge-allowed"[^>]*>allowed</span>', page)
    assert f'href="/admin/consent/consent/{consent.pk}/change/"' in page
    assert f"Recorded as allowed under consent #{consent.pk}" in " ".join(messages_of(response))


def test_the_ai_use_form_labels_every_field(world):
    page = html(logged_in(world["alice"]).get(reverse("admin:consent_aiuse_add")))
    assert unlabelled_fields(page, "aiuse_form") == []


# --- 6. revoking a consent and the uses it takes away ------------------------------------------

NOW = datetime(2025, 6, 5, 12, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def planned_use(engagement, on: datetime):
    return ai_use_record(
        actor=UserFactory(username="recorder"),
        scope=Scope(superuser=True),
        production=engagement.production,
        person=engagement.person,
        kind="replica_creation",
        starts_at=on,
        description="Scan for the battle scenes",
    )


@pytest.fixture
def consented(world, engaged):
    consent = grant_consent(engaged)
    uses = {
        "past": planned_use(engaged, datetime(2025, 6, 3, 9, tzinfo=UTC)),
        "june": planned_use(engaged, datetime(2025, 6, 20, 9, tzinfo=UTC)),
        "july": planned_use(engaged, datetime(2025, 7, 20, 9, tzinfo=UTC)),
    }
    assert {u.consent for u in uses.values()} == {consent}
    return consent, uses


def affected_ids(page: str) -> list[int]:
    table = re.search(r'<table id="affected-uses">.*?</table>', page, re.S)
    assert table, "no affected-uses table"
    return [
        int(i) for i in re.findall(r'href="/admin/consent/aiuse/(\d+)/change/"', table.group(0))
    ]


def revoke_url(consent) -> str:
    return reverse("admin:consent_consent_revoke", args=[consent.pk])


def test_the_consent_page_links_to_the_revoke_form(world, frozen, consented):
    consent, _uses = consented
    page = html(
        logged_in(world["alice"]).get(reverse("admin:consent_consent_change", args=[consent.pk]))
    )
    assert f'<a href="{revoke_url(consent)}" id="revoke-link">Revoke</a>' in page
    guild_page = html(
        logged_in(world["sally"]).get(reverse("admin:consent_consent_change", args=[consent.pk]))
    )
    assert "revoke-link" not in guild_page
    assert logged_in(world["sally"]).get(revoke_url(consent)).status_code == 403


def test_the_revoke_form_shows_the_uses_it_would_take_away_before_confirming(
    world, frozen, consented
):
    consent, uses = consented
    client = logged_in(world["alice"])
    page = html(client.get(revoke_url(consent)))
    assert affected_ids(page) == [uses["june"].pk, uses["july"].pk]  # not the one before now
    assert 'value="Revoke consent"' in page
    # The browser must not insist on a reason before it shows the uses for another date.
    assert re.search(r'<input type="submit" name="_preview"[^>]*formnovalidate', page)
    assert unlabelled_fields(page, "revoke-consent") == []
    later = client.post(
        revoke_url(consent), {"reason": "", "at": "2025-07-01 00:00", "_preview": "1"}
    )
    assert affected_ids(html(later)) == [uses["july"].pk]
    assert "This field is required" not in html(later)  # a preview needs no reason yet
    assert ConsentEvent.objects.count() == 0


def test_a_use_another_consent_still_covers_is_not_listed(world, frozen, consented, engaged):
    consent, uses = consented
    grant_consent(engaged, description=SPECIFIC + " (second rider)")
    page = html(logged_in(world["alice"]).get(revoke_url(consent)))
    assert affected_ids(page) == []


def test_revoking_without_a_reason_or_before_the_signature_writes_nothing(world, frozen, consented):
    consent, _uses = consented
    client = logged_in(world["alice"])
    response = client.post(revoke_url(consent), {"reason": "", "at": "", "_revoke": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Give the reason for the revocation."]
    response = client.post(
        revoke_url(consent), {"reason": "Withdrawn", "at": "2025-05-01 00:00", "_revoke": "1"}
    )
    assert response.status_code == 200
    assert "before the consent was signed" in html(response)
    response = client.post(revoke_url(consent), {"reason": "Withdrawn", "at": "not a date"})
    assert "Enter a valid date/time." in html(response)
    assert ConsentEvent.objects.count() == 0 and ConsentEvent.history.count() == 0


def test_revoking_records_the_event_and_lists_the_uses_it_took_away(world, frozen, consented):
    consent, uses = consented
    client = logged_in(world["alice"])
    response = client.post(
        revoke_url(consent),
        {"reason": "Performer withdrew consent", "at": "2025-06-05 12:00", "_revoke": "1"},
        follow=True,
    )
    assert response.redirect_chain == [(revoke_url(consent), 302)]
    event = ConsentEvent.objects.get()
    assert (event.kind, event.reason, event.actor, event.effective_at) == (
        "revoked",
        "Performer withdrew consent",
        world["alice"],
        datetime(2025, 6, 5, 12, tzinfo=UTC),
    )
    assert event.history.get().history_user == world["alice"]
    page = html(response)
    assert affected_ids(page) == [uses["june"].pk, uses["july"].pk]
    assert "<code>consent.revoked</code>" in page  # the rule that no longer holds
    assert 'value="Revoke consent"' not in page
    assert "2 recorded use(s) dated from then on are no longer covered" in " ".join(
        messages_of(response)
    )
    change = html(client.get(reverse("admin:consent_consent_change", args=[consent.pk])))
    assert ">Revocation</a>" in change and ">Revoke</a>" not in change
    # Posting again changes nothing: the consent is already revoked.
    client.post(revoke_url(consent), {"reason": "Again", "at": "", "_revoke": "1"})
    assert ConsentEvent.objects.count() == 1


def test_another_studios_consent_has_no_revoke_form(world, frozen):
    theirs = grant_consent(EngagementFactory(person=world["bob"], production=world["other"]))
    assert logged_in(world["alice"]).get(revoke_url(theirs)).status_code == 404


# --- 5. a compensation run: start, read, approve, then its payables --------------------------


@pytest.fixture
def pay_world():
    clear_parameter_cache()
    w = build_world()
    record_day(w.ann, w.maya)
    yield w
    clear_parameter_cache()


def run_page(client, run):
    return client.get(reverse("admin:compensation_compensationrun_change", args=[run.pk]))


def test_a_run_started_in_the_admin_is_explained_approved_and_leads_to_its_payables(
    pay_world, django_capture_on_commit_callbacks
):
    w = pay_world
    client = logged_in(w.maya)
    add_page = html(client.get(reverse("admin:compensation_compensationrun_add")))
    assert unlabelled_fields(add_page, "compensationrun_form") == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:compensation_compensationrun_add"),
            {
                "production": w.film.pk,
                "period_from": "2025-08-04",
                "period_to": "2025-08-10",
                "due_date": "2025-08-20",
            },
        )
    assert response.status_code == 302
    run = CompensationRun.objects.get()
    assert run.status == "computed" and run.started_by == w.maya
    acknowledge_all(run)  # its review (tests/compensation/test_run_review.py)

    page = html(run_page(client, run))
    assert ">Approve run</button>" in page
    assert 'id="run-payables"' not in page  # nothing is posted before approval
    line = run.lines.get(rule="sag.pay.day")
    assert f"/admin/compensation/compensationline/{line.pk}/change/" in page
    explanation = html(
        client.get(reverse("admin:compensation_compensationline_change", args=[line.pk]))
    )
    assert "<b>sag.pay.day</b>" in explanation
    assert re.search(r"1 day × [\d,.]+ USD = <b>[\d,.]+ USD</b>", explanation)
    for parameter in line.parameters:
        assert parameter["parameter"] in explanation
        assert (parameter.get("sheet") or parameter["source"]) in explanation  # the citation

    response = client.post(
        reverse("admin:compensation_compensationrun_approve", args=[run.pk]), follow=True
    )
    assert response.redirect_chain == [
        (reverse("admin:compensation_compensationrun_change", args=[run.pk]), 302)
    ]
    assert f"Run #{run.pk} is approved and posted." in messages_of(response)
    run.refresh_from_db()
    assert run.status == "approved" and run.approved_by == w.maya
    page = html(response)
    assert ">Approve run</button>" not in page
    payables_url = f"/admin/ledger/payable/?production__id__exact={w.film.pk}"
    assert f'<a href="{payables_url}" id="run-payables">Payables</a>' in page

    listing = client.get(payables_url)
    assert listing.status_code == 200
    expected = set(Payable.objects.filter(production=w.film))
    assert expected and set(listing.context["cl"].result_list) == expected
    payments = client.get(f"/admin/ledger/payment/?payable__production__id__exact={w.film.pk}")
    assert payments.status_code == 200 and list(payments.context["cl"].result_list) == []


def test_guild_staff_see_no_approve_button_and_cannot_approve(pay_world):
    w = pay_world
    run = computed_run(w.film, w.maya)
    client = logged_in(w.sam)
    assert "Approve run" not in html(run_page(client, run))
    response = client.post(
        reverse("admin:compensation_compensationrun_approve", args=[run.pk]), follow=True
    )
    assert f"Run #{run.pk}: only its studio's staff approve it." in messages_of(response)
    run.refresh_from_db()
    assert run.status == "computed"
    assert not JournalTransaction.objects.filter(source_type="compensation_run").exists()


def test_approving_another_studios_run_is_404(pay_world):
    w = pay_world
    run = computed_run(w.film, w.maya)
    response = logged_in(w.nora).post(
        reverse("admin:compensation_compensationrun_approve", args=[run.pk])
    )
    assert response.status_code == 404
    run.refresh_from_db()
    assert run.status == "computed"


def test_the_approve_url_takes_only_post(pay_world):
    w = pay_world
    run = computed_run(w.film, w.maya)
    response = logged_in(w.maya).get(
        reverse("admin:compensation_compensationrun_approve", args=[run.pk])
    )
    assert response.status_code == 405
    run.refresh_from_db()
    assert run.status == "computed"
