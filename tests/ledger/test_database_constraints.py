"""The registry's invariants hold in the database itself: rows written without any Python
validation (`objects.create`, `save()`, raw SQL) that break one are refused with IntegrityError,
on SQLite and on PostgreSQL alike."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import (
    Agreement,
    Engagement,
    GuildStaff,
    Membership,
    Person,
    Production,
    ProductionAgreement,
    Studio,
    StudioStaff,
)
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    guild,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def base():
    studio = StudioFactory(name="Meridian Pictures", slug="meridian")
    production = ProductionFactory(studio=studio, title="The Long Light")
    sag = agreement("sag-tvth-2023")
    ProductionAgreementFactory(production=production, agreement=sag)
    person = PersonFactory(registered_by=studio)
    MembershipFactory(person=person, guild=guild("sag-aftra"), member_number="SAG-1")
    engagement = EngagementFactory(person=person, production=production, agreement=sag)
    return {
        "studio": studio,
        "production": production,
        "person": person,
        "agreement": sag,
        "engagement": engagement,
    }


def production_fields(base, **overrides):
    fields = {
        "studio": base["studio"],
        "title": "Harbor Nights",
        "kind": "theatrical",
        "start_date": date(2026, 7, 6),
    }
    fields.update(overrides)
    return fields


def engagement_fields(base, **overrides):
    fields = {
        "person": base["person"],
        "production": base["production"],
        "agreement": base["agreement"],
        "classification": "day_performer",
        "rate_amount": Decimal("1500.00"),
        "rate_unit": "day",
        "rate_currency": "USD",
        "start_date": date(2025, 6, 2),
    }
    fields.update(overrides)
    return fields


def assert_refused(write):
    """`write` raises IntegrityError inside its own savepoint; the test goes on afterwards."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


# --- the valid versions are accepted: each refusal below is for the one broken rule ------------


def test_valid_rows_are_accepted(base):
    Production.objects.create(**production_fields(base))
    Production.objects.create(
        **production_fields(base, title="Series", kind="television", episode_minutes=30)
    )
    Production.objects.create(
        **production_fields(base, title="Same day", end_date=date(2026, 7, 6))
    )
    Engagement.objects.create(**engagement_fields(base, rate_amount=Decimal("0.01")))
    Engagement.objects.create(**engagement_fields(base, end_date=date(2025, 6, 2)))
    Person.objects.create(
        legal_name="Late",
        is_deceased=True,
        date_of_death=date(2020, 1, 1),
        authorized_representative="Heir",
    )
    Agreement.objects.create(
        guild=guild("wga"),
        code="wga-test",
        name="t",
        effective_from=date(2030, 1, 1),
        effective_to=date(2030, 1, 1),
        tier="P",
        source="s",
    )
    assert Production.objects.count() == 4
    assert Engagement.objects.count() == 3


# --- check constraints -------------------------------------------------------------------------

PRODUCTION_CASES = {
    "end before start": {"end_date": date(2026, 7, 5)},
    "television without episode minutes": {"kind": "television"},
    "television with zero episode minutes": {"kind": "television", "episode_minutes": 0},
    "film with episode minutes": {"kind": "theatrical", "episode_minutes": 60},
    "new media with episode minutes": {"kind": "new_media", "episode_minutes": 10},
    "unknown kind": {"kind": "opera"},
    "unknown status": {"status": "shelved"},
    "negative episode minutes": {"kind": "television", "episode_minutes": -30},
    "duplicate title in the studio": {"title": "The Long Light"},
}


@pytest.mark.parametrize("overrides", PRODUCTION_CASES.values(), ids=PRODUCTION_CASES.keys())
def test_production_constraints(base, overrides):
    before = Production.objects.count(), Production.history.count()
    assert_refused(lambda: Production.objects.create(**production_fields(base, **overrides)))
    assert (Production.objects.count(), Production.history.count()) == before


def test_the_same_title_in_another_studio_is_allowed(base):
    Production.objects.create(
        **production_fields(base, studio=StudioFactory(), title="The Long Light")
    )


PRODUCTION_UPDATE_CASES = {
    "end before start": {"end_date": date(2025, 6, 1)},
    "television without episode minutes": {"kind": "television"},
    "film keeps episode minutes": {"episode_minutes": 45},
    "unknown status": {"status": "shelved"},
}


@pytest.mark.parametrize(
    "changes", PRODUCTION_UPDATE_CASES.values(), ids=PRODUCTION_UPDATE_CASES.keys()
)
def test_production_constraints_on_save(base, changes):
    production = Production.objects.get(pk=base["production"].pk)
    for name, value in changes.items():
        setattr(production, name, value)
    assert_refused(production.save)
    production.refresh_from_db()
    assert production.end_date is None and production.kind == "theatrical"


ENGAGEMENT_CASES = {
    "zero rate": {"rate_amount": Decimal("0")},
    "negative rate": {"rate_amount": Decimal("-1500.00")},
    "end before start": {"end_date": date(2025, 6, 1)},
    "unknown rate unit": {"rate_unit": "fortnight"},
    "unknown currency": {"rate_currency": "XYZ"},
    "unknown classification": {"classification": "stunt_wizard"},
    "empty classification": {"classification": ""},
}


@pytest.mark.parametrize("overrides", ENGAGEMENT_CASES.values(), ids=ENGAGEMENT_CASES.keys())
def test_engagement_constraints(base, overrides):
    before = Engagement.objects.count(), Engagement.history.count()
    assert_refused(lambda: Engagement.objects.create(**engagement_fields(base, **overrides)))
    assert (Engagement.objects.count(), Engagement.history.count()) == before


def test_engagement_rate_cannot_drop_to_zero_on_save(base):
    engagement = Engagement.objects.get(pk=base["engagement"].pk)
    engagement.rate_amount = Decimal("0.00")
    assert_refused(engagement.save)
    engagement.refresh_from_db()
    assert engagement.rate_amount == Decimal("1500.00")


PERSON_CASES = {
    "date of death while alive": {"date_of_death": date(2024, 1, 1)},
    "representative while alive": {"authorized_representative": "An Heir"},
}


@pytest.mark.parametrize("overrides", PERSON_CASES.values(), ids=PERSON_CASES.keys())
def test_person_constraints(base, overrides):
    assert_refused(lambda: Person.objects.create(legal_name="Someone", **overrides))
    assert not Person.objects.filter(legal_name="Someone").exists()


def test_membership_constraints(base):
    person = base["person"]
    other = PersonFactory()
    # one membership per guild
    assert_refused(
        lambda: Membership.objects.create(
            person=person, guild=guild("sag-aftra"), member_number="SAG-2"
        )
    )
    # a member number belongs to one person in a guild
    assert_refused(
        lambda: Membership.objects.create(
            person=other, guild=guild("sag-aftra"), member_number="SAG-1"
        )
    )
    # a member number is required
    assert_refused(
        lambda: Membership.objects.create(person=other, guild=guild("wga"), member_number="")
    )
    # the same number in another guild is fine
    Membership.objects.create(person=other, guild=guild("wga"), member_number="SAG-1")
    assert Membership.objects.count() == 2


def test_agreement_dates_are_ordered():
    assert_refused(
        lambda: Agreement.objects.create(
            guild=guild("wga"),
            code="wga-backwards",
            name="Backwards",
            effective_from=date(2030, 1, 2),
            effective_to=date(2030, 1, 1),
            tier="P",
            source="test",
        )
    )
    assert not Agreement.objects.filter(code="wga-backwards").exists()


def test_unique_rows(base):
    production, sag = base["production"], base["agreement"]
    assert_refused(lambda: ProductionAgreement.objects.create(production=production, agreement=sag))
    assert_refused(lambda: Studio.objects.create(name="Meridian Pictures", slug="other"))
    assert_refused(lambda: Studio.objects.create(name="Other", slug="meridian"))
    user = UserFactory(username="maya")
    StudioStaff.objects.create(user=user, studio=base["studio"])
    assert_refused(lambda: StudioStaff.objects.create(user=user, studio=base["studio"]))
    GuildStaff.objects.create(user=user, guild=guild("wga"))
    assert_refused(lambda: GuildStaff.objects.create(user=user, guild=guild("wga")))


# --- raw SQL: no Python at all -----------------------------------------------------------------


def _raw_production(base, *, kind="theatrical", minutes=None, start="2026-07-06", end=None):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_production (studio_id, title, kind, episode_minutes, budget_tier, "
            "start_date, end_date, status, created_at) "
            "VALUES (%s, %s, %s, %s, '', %s, %s, 'development', %s)",
            [base["studio"].pk, "Raw", kind, minutes, start, end, "2026-01-01 00:00:00+00:00"],
        )


def _raw_engagement(base, *, production_id=None, agreement_id=None, amount="1500.00", end=None):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_engagement (person_id, production_id, agreement_id, "
            "classification, role, rate_amount, rate_unit, rate_currency, start_date, end_date, "
            "created_at) VALUES (%s, %s, %s, 'day_performer', '', %s, 'day', 'USD', "
            "'2025-06-02', %s, %s)",
            [
                base["person"].pk,
                production_id or base["production"].pk,
                agreement_id or base["agreement"].pk,
                amount,
                end,
                "2026-01-01 00:00:00+00:00",
            ],
        )


def test_raw_sql_valid_rows_are_accepted(base):
    _raw_production(base)
    _raw_engagement(base)
    assert Production.objects.filter(title="Raw").exists()
    assert Engagement.objects.count() == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "television"},
        {"kind": "television", "minutes": 0},
        {"kind": "theatrical", "minutes": 60},
        {"end": "2026-07-05"},
        {"kind": "opera"},
    ],
    ids=["tv without minutes", "tv zero minutes", "film with minutes", "reversed dates", "kind"],
)
def test_raw_sql_production_constraints(base, kwargs):
    assert_refused(lambda: _raw_production(base, **kwargs))
    assert not Production.objects.filter(title="Raw").exists()


@pytest.mark.parametrize(
    "kwargs",
    [{"amount": "0"}, {"amount": "-0.01"}, {"end": "2025-06-01"}],
    ids=["zero rate", "negative rate", "reversed dates"],
)
def test_raw_sql_engagement_constraints(base, kwargs):
    assert_refused(lambda: _raw_engagement(base, **kwargs))
    assert Engagement.objects.count() == 1


# --- an engagement's agreement is attached to its production -----------------------------------


def test_an_engagement_under_an_unattached_agreement_is_refused(base):
    unattached = agreement("sag-tvth-2026")
    assert_refused(
        lambda: Engagement.objects.create(**engagement_fields(base, agreement=unattached))
    )
    assert_refused(lambda: _raw_engagement(base, agreement_id=unattached.pk))
    assert Engagement.objects.count() == 1


def test_an_engagement_cannot_move_to_an_unattached_agreement(base):
    engagement = Engagement.objects.get(pk=base["engagement"].pk)
    engagement.agreement = agreement("sag-tvth-2026")
    assert_refused(engagement.save)
    engagement.refresh_from_db()
    assert engagement.agreement.code == "sag-tvth-2023"


def test_an_engagement_cannot_move_to_a_production_without_its_agreement(base):
    elsewhere = ProductionFactory(studio=base["studio"], title="Elsewhere")
    ProductionAgreementFactory(production=elsewhere, agreement=agreement("wga-mba-2023"))
    engagement = Engagement.objects.get(pk=base["engagement"].pk)
    engagement.production = elsewhere
    assert_refused(engagement.save)
    with connection.cursor() as cursor:
        assert_refused(
            lambda: cursor.execute(
                "UPDATE ledger_engagement SET production_id = %s WHERE id = %s",
                [elsewhere.pk, engagement.pk],
            )
        )
    engagement.refresh_from_db()
    assert engagement.production_id == base["production"].pk


def test_an_engagement_may_use_an_agreement_attached_to_its_production(base):
    elsewhere = ProductionFactory(studio=base["studio"], title="Elsewhere")
    ProductionAgreementFactory(production=elsewhere, agreement=base["agreement"])
    engagement = Engagement.objects.get(pk=base["engagement"].pk)
    engagement.production = elsewhere
    engagement.save()
    engagement.refresh_from_db()
    assert engagement.production == elsewhere


def test_an_attachment_in_use_cannot_be_deleted(base):
    attachment = ProductionAgreement.objects.get(
        production=base["production"], agreement=base["agreement"]
    )
    assert_refused(attachment.delete)

    def raw_delete():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_productionagreement WHERE id = %s", [attachment.pk])

    assert_refused(raw_delete)
    assert ProductionAgreement.objects.filter(pk=attachment.pk).exists()


def test_an_attachment_not_in_use_can_be_deleted(base):
    spare = ProductionAgreementFactory(
        production=base["production"], agreement=agreement("iatse-basic-2024")
    )
    spare.delete()
    assert not ProductionAgreement.objects.filter(agreement__code="iatse-basic-2024").exists()


def test_an_attachment_can_go_once_its_engagements_have(base):
    attachment = ProductionAgreement.objects.get(
        production=base["production"], agreement=base["agreement"]
    )
    Engagement.objects.get(pk=base["engagement"].pk).delete()
    attachment.delete()
    assert not ProductionAgreement.objects.filter(pk=attachment.pk).exists()
