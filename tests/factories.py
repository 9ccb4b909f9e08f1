"""Test data with fixed values (no randomness): factory_boy factories for the registry."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from ledger.models import (
    Agreement,
    Engagement,
    Guild,
    GuildStaff,
    Membership,
    PayrollKey,
    Person,
    Production,
    ProductionAgreement,
    Studio,
    StudioStaff,
)


def guild(code: str) -> Guild:
    return Guild.objects.get(code=code)


def agreement(code: str) -> Agreement:
    return Agreement.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pw")


class StudioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Studio

    name = factory.Sequence(lambda n: f"Studio {n}")
    slug = factory.Sequence(lambda n: f"studio-{n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    legal_name = factory.Sequence(lambda n: f"Person {n}")
    payroll_ref = factory.Sequence(lambda n: f"PR-{n:05d}")
    registered_by = factory.SubFactory(StudioFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    person = factory.SubFactory(PersonFactory)
    guild = factory.LazyFunction(lambda: guild("sag-aftra"))
    member_number = factory.Sequence(lambda n: f"M-{n:06d}")


class ProductionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Production

    studio = factory.SubFactory(StudioFactory)
    title = factory.Sequence(lambda n: f"Production {n}")
    kind = "theatrical"
    start_date = date(2025, 6, 2)


class ProductionAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductionAgreement
        django_get_or_create = ["production", "agreement"]

    production = factory.SubFactory(ProductionFactory)
    agreement = factory.LazyFunction(lambda: agreement("sag-tvth-2023"))


class EngagementFactory(factory.django.DjangoModelFactory):
    """An engagement; attaches its agreement to the production first, as the database requires."""

    class Meta:
        model = Engagement

    person = factory.SubFactory(PersonFactory)
    production = factory.SubFactory(ProductionFactory)
    agreement = factory.LazyFunction(lambda: agreement("sag-tvth-2023"))
    classification = "day_performer"
    rate_amount = Decimal("1500.00")
    rate_unit = "day"
    rate_currency = "USD"
    start_date = date(2025, 6, 2)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        ProductionAgreementFactory(production=kwargs["production"], agreement=kwargs["agreement"])
        return super()._create(model_class, *args, **kwargs)


def studio_staff(studio: Studio, username: str):
    user = UserFactory(username=username)
    StudioStaff.objects.get_or_create(user=user, studio=studio)
    return user


def guild_staff(code: str, username: str):
    user = UserFactory(username=username)
    GuildStaff.objects.get_or_create(user=user, guild=guild(code))
    return user


def payroll_key(*studios: Studio, name: str = "payroll") -> tuple[PayrollKey, str]:
    owner = UserFactory(username=f"owner-{name}", is_staff=False)
    key, raw = PayrollKey.objects.create_key(name=name, owner=owner)
    key.studios.set(studios)
    return key, raw


# --- consent ---------------------------------------------------------------------------------

SPECIFIC = "Full-body scan for the battle scenes of episode 3, for streaming and trailers"


def evidence_file(content: bytes = b"%PDF-1.4 signed consent", name: str = "consent.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def grant_consent(engagement: Engagement, *, actor=None, **fields):
    """A valid consent for the engagement's person and production, through the service."""
    from datetime import UTC, datetime

    from consent.services import consent_grant

    values = dict(
        kind="replica_creation",
        description=SPECIFIC,
        instrument="separate_writing",
        signed_at=datetime(2025, 6, 1, 12, tzinfo=UTC),
        signed_by=engagement.person.legal_name,
        signed_by_capacity="self",
        term_from=date(2025, 6, 1),
        notice_at=datetime(2025, 6, 1, 12, tzinfo=UTC),
        evidence=evidence_file(),
    )
    values.update(fields)
    return consent_grant(
        actor=actor or UserFactory(username="recorder"),
        person=engagement.person,
        production=engagement.production,
        **values,
    )


# --- residuals -------------------------------------------------------------------------------


class ExhibitionFactory(factory.django.DjangoModelFactory):
    """A high-budget SVOD exhibition of a production's episode, in its first exhibition year."""

    class Meta:
        model = "compensation.Exhibition"

    production = factory.SubFactory(ProductionFactory)
    episode = "101"
    work_type = "episode"
    running_minutes = 60
    market = "hbsvod"
    territory = "worldwide"
    period_from = date(2025, 1, 1)
    period_to = date(2025, 12, 31)
    service = "Streamer"
    subscriber_tier = "tier_2"
    exhibition_year = 1


class WritingCreditFactory(factory.django.DjangoModelFactory):
    """A WGA writer's "Written by" credit on an episode."""

    class Meta:
        model = "compensation.WritingCredit"

    engagement = factory.SubFactory(
        EngagementFactory,
        agreement=factory.LazyFunction(lambda: agreement("wga-mba-2023")),
        classification="writer",
        rate_amount=Decimal("5000.00"),
        rate_unit="week",
    )
    episode = "101"
    credit = "written_by"
