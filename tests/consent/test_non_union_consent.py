"""A person engaged under no collective agreement: their consents are recorded under `non-union`
and their uses are decided there, by the general and state-law rules (RULES.md §1 `non-union`,
§2 `consent.*` and `law.*`), even on a production that also attaches a union agreement for the
same kind of work. Guild staff see none of it."""

from datetime import UTC, date, datetime

import pytest
from rest_framework.test import APIClient

from consent import services
from ledger.access import Scope
from ledger.registry.catalogue import NON_UNION
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    grant_consent,
    guild_staff,
)
from tests.helpers import list_ids

pytestmark = pytest.mark.django_db

GENERIC = "Digital replica of the performer in any and all media now known or hereafter devised"
SPECIFIC = "Replica in scenes 12 to 14 of episode 3, for streaming and trailers"


@pytest.fixture
def june():
    """June, in no guild, engaged as a day performer under `non-union` on a 2026 series that
    also attaches SAG-AFTRA 2026 (under which a day performer would otherwise fall)."""
    studio = StudioFactory(name="Meridian", slug="meridian")
    series = ProductionFactory(studio=studio, title="Harbor Nights", start_date=date(2026, 7, 6))
    ProductionAgreementFactory(production=series, agreement=agreement("sag-tvth-2026"))
    ProductionAgreementFactory(production=series, agreement=agreement(NON_UNION))
    return EngagementFactory(
        production=series,
        person=PersonFactory(legal_name="June Calloway", registered_by=studio),
        agreement=agreement(NON_UNION),
        classification="day_performer",
        start_date=date(2026, 7, 6),
    )


def _consent(engagement, description, **fields):
    return grant_consent(
        engagement,
        kind="replica_use",
        description=description,
        signed_at=datetime(2026, 7, 8, 10, tzinfo=UTC),
        term_from=date(2026, 7, 8),
        term_to=date(2027, 7, 7),
        governing_law="US-CA",
        performance_fixed_on=date(2026, 7, 14),
        replaces_in_person_work=True,
        **fields,
    )


def _use(engagement):
    return services.ai_use_record(
        actor=UserFactory(username="recorder-of-uses"),
        scope=Scope(superuser=True),
        production=engagement.production,
        person=engagement.person,
        kind="replica_use",
        starts_at=datetime(2026, 8, 3, 9, tzinfo=UTC),
        description="Replica in place of a pickup day",
    )


def test_the_consent_is_recorded_under_non_union_not_the_category_guilds(june):
    consent = _consent(june, SPECIFIC)
    assert consent.agreement.code == NON_UNION
    assert consent.category == "principal"


def test_a_catch_all_replacement_consent_under_california_law_covers_no_use(june):
    _consent(june, GENERIC)
    use = _use(june)
    assert use.agreement.code == NON_UNION
    assert use.status == "violation"
    assert use.rules == ["law.ca.lab927"]


def test_a_specific_consent_covers_the_use_with_no_union_rule(june):
    _consent(june, SPECIFIC)
    use = _use(june)
    assert use.agreement.code == NON_UNION
    assert use.status == "allowed"
    assert not [rule for rule in use.rules if rule.startswith(("sag.", "wga.", "iatse."))]


def test_guild_staff_see_neither_the_consent_nor_the_use(june):
    consent = _consent(june, SPECIFIC)
    use = _use(june)
    client = APIClient()
    client.force_authenticate(guild_staff("sag-aftra", "sally"))
    assert consent.pk not in list_ids(client.get("/api/v1/consents/"))
    assert use.pk not in list_ids(client.get("/api/v1/ai-uses/"))
