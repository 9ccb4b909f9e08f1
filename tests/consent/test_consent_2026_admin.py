"""The consent's pages in the staff admin, 2026 revision: the state-law fields in their group,
what the chosen kind and governing law need, the "Check this consent" step on an unsaved form
(rule by rule, writing nothing) and on a recorded consent, and the AI use's new fields."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from consent.models import AiUse, Consent
from tests.consent.helpers import counts, media_files
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    evidence_file,
    grant_consent,
    studio_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def world():
    studio = StudioFactory(name="Meridian", slug="meridian")
    ann = EngagementFactory(
        production=ProductionFactory(studio=studio, title="Night Shift"),
        person=PersonFactory(legal_name="Ann Example", registered_by=studio),
        agreement=agreement("sag-tvth-2026"),
        start_date=date(2026, 7, 6),
    )
    client = Client()
    client.force_login(studio_staff(studio, "maya"))
    return {"ann": ann, "client": client}


def form_body(world, **overrides) -> dict:
    """A 2026 creation consent as the add form sends it, with no notice and no business reason."""
    ann = world["ann"]
    body = {
        "person": ann.person_id,
        "production": ann.production_id,
        "kind": "replica_creation",
        "description": SPECIFIC,
        "term_from": "2026-07-01",
        "term_to": "2027-06-30",
        "instrument": "rider",
        "signed_at_0": "2026-07-01",
        "signed_at_1": "12:00:00",
        "signed_by": "Ann",
        "signed_by_capacity": "self",
        "represented_by": "none",
        "bargained_currency": "USD",
    }
    body.update(overrides)
    return body


def failed_rules(page: str) -> set[str]:
    return set(re.findall(r'class="finding-failed" data-rule="([^"]+)"', page))


def test_the_add_form_groups_the_state_law_fields_and_offers_the_three_laws(world):
    page = world["client"].get(reverse("admin:consent_consent_add")).content.decode()
    state_law = page[page.index('class="fieldset-heading">State law</h2>') :]
    for name in (
        "governing_law",
        "performance_fixed_on",
        "replaces_in_person_work",
        "represented_by",
        "terms_initialed",
    ):
        assert f'name="{name}' in state_law, name
    for code in ("US-CA", "US-NY", "US-IL"):
        assert f'<option value="{code}">' in page
    assert 'name="_check"' in page and "Check this consent" in page
    assert "What this consent needs" in page
    assert "sag.consent.scan_reason" in page  # the creation block, closed until chosen


def test_checking_a_draft_without_notice_or_reason_shows_the_failing_rules_and_saves_nothing(
    world, media
):
    before, files = counts(), media_files(media)
    response = world["client"].post(
        reverse("admin:consent_consent_add"),
        form_body(world, _check="Check this consent", evidence=evidence_file()),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check of this consent (nothing was saved)" in page
    assert failed_rules(page) == {"sag.consent.notice_48h", "sag.consent.scan_reason"}
    assert 'data-rule="sag.consent.separate"' in page  # the passing rules are listed too
    assert "errornote" not in page
    assert 'data-kind="replica_creation" open' in page  # the chosen kind's needs, opened
    assert counts() == before
    assert media_files(media) == files
    assert Consent.objects.count() == 0


def test_checking_needs_no_evidence_and_a_complete_draft_passes(world):
    response = world["client"].post(
        reverse("admin:consent_consent_add"),
        form_body(
            world,
            _check="Check this consent",
            notice_at_0="2026-06-28",
            notice_at_1="09:00:00",
            business_reason="Stunt double for the fall in episode 4",
        ),
    )
    page = response.content.decode()
    assert failed_rules(page) == set()
    assert "review-ok" in page
    assert Consent.objects.count() == 0


def test_a_californian_draft_opens_its_law_and_fails_lab927(world):
    response = world["client"].post(
        reverse("admin:consent_consent_add"),
        form_body(
            world,
            _check="Check this consent",
            description="Any and all uses in all media now known or hereafter devised",
            governing_law="US-CA",
            performance_fixed_on="2026-07-02",
            replaces_in_person_work="on",
        ),
    )
    page = response.content.decode()
    assert "law.ca.lab927" in failed_rules(page)
    assert 'data-law="US-CA" open' in page
    assert "the greater of $10,000 or actual damages" in page


def test_a_bad_governing_law_is_a_form_error_on_its_field(world):
    response = world["client"].post(
        reverse("admin:consent_consent_add"),
        form_body(world, _check="Check this consent", governing_law="California"),
    )
    page = response.content.decode()
    assert "errornote" in page and "ISO 3166-2" in page
    assert Consent.objects.count() == 0


def test_saving_records_the_state_law_fields(world):
    response = world["client"].post(
        reverse("admin:consent_consent_add"),
        form_body(
            world,
            notice_at_0="2026-06-28",
            notice_at_1="09:00:00",
            business_reason="Stunt double",
            governing_law="US-NY",
            performance_fixed_on="2026-07-02",
            terms_initialed="on",
            represented_by="counsel",
            evidence=evidence_file(),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    consent = Consent.objects.get()
    assert (consent.governing_law, consent.performance_fixed_on) == ("US-NY", date(2026, 7, 2))
    assert consent.terms_initialed and consent.represented_by == "counsel"


def test_a_recorded_consents_page_checks_it_as_recorded(world):
    consent = grant_consent(
        world["ann"],
        term_from=date(2026, 7, 1),
        term_to=None,
        signed_at=datetime(2026, 7, 1, 12, tzinfo=UTC),
        notice_at=None,
    )
    url = reverse("admin:consent_consent_change", args=[consent.pk])
    page = world["client"].get(url).content.decode()
    assert 'id="check-consent-link"' in page and "consent-findings" not in page
    checked = world["client"].get(url + "?check=1").content.decode()
    assert {"sag.consent.notice_48h", "sag.consent.scan_reason"} <= failed_rules(checked)
    assert 'data-rule="law.us.no_fakes"' in checked  # its open-ended term: a warning


def test_the_ai_use_form_takes_the_places_as_text(world):
    response = world["client"].post(
        reverse("admin:consent_aiuse_add"),
        {
            "production": world["ann"].production_id,
            "kind": "synthetic_performer",
            "starts_at_0": "2026-07-10",
            "starts_at_1": "09:00:00",
            "description": "Synthetic host in the spring campaign",
            "advertisement": "on",
            "distributed_in": "US-NY, US-CA",
            "ad_exemption": "expressive_work",
        },
        follow=True,
    )
    assert response.status_code == 200
    use = AiUse.objects.get()
    assert use.distributed_in == ["US-NY", "US-CA"]
    assert use.ad_exemption == "expressive_work" and use.advertisement


def test_the_ai_use_form_refuses_a_place_that_is_not_a_code(world):
    before = counts()
    response = world["client"].post(
        reverse("admin:consent_aiuse_add"),
        {
            "production": world["ann"].production_id,
            "kind": "synthetic_performer",
            "starts_at_0": "2026-07-10",
            "starts_at_1": "09:00:00",
            "description": "Synthetic host",
            "advertisement": "on",
            "distributed_in": "New York",
        },
    )
    assert "Not a country or ISO 3166-2 code" in response.content.decode()
    assert counts() == before


def test_the_state_law_help_states_the_dates_and_periods_the_rules_read():
    from consent.admin_check import STATE_LAW_NEEDS, TERM_NEEDS
    from consent.rules.parameters import shipped_parameters, statute_start

    series = shipped_parameters().series
    for needs in STATE_LAW_NEEDS.values():
        for need in needs:
            if f"{need.rule}.in_force" in series:
                assert statute_start(need.rule).isoformat() in need.when, need
    years = series["law.ca.civ3344_1.years_after_death"].entries[-1].value
    civ = next(n for n in STATE_LAW_NEEDS["US-CA"] if n.rule == "law.ca.civ3344_1")
    assert f"within the last {years} years" in civ.text
    term = series["law.us.no_fakes.max_term_years"].entries[-1].value
    assert f"more than {term} years" in TERM_NEEDS[0].text
