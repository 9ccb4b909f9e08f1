"""The registry: who works for whom, on what, under which union agreement.

Studios own productions. A production attaches the guild agreements (SAG-AFTRA, WGA, IATSE) that
govern its work, or `non-union` for work no guild covers; a person is engaged on a production
under one of those attached agreements, in a classification, at a negotiated rate. Everything
later in the product (consent, compensation, the journal) names these rows, so every invariant
here is also a database constraint, and every change is kept in history with the acting user.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from core.audit import AuditedManager, history
from core.money import Currency, currency_field, money_field
from ledger.registry.catalogue import NON_UNION


class Studio(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Guild(models.Model):
    """A union. The three the product serves are seeded by migration."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=200)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class AgreementTier(models.TextChoices):
    """The evidence tier of an agreement's term (RULES.md, "Evidence tiers")."""

    PRIMARY = "P", "Primary"
    SECONDARY = "S", "Secondary"
    PRIMARY_SECONDARY = "P/S", "Primary and secondary"


class Agreement(models.Model):
    """A dated version of a guild's collective bargaining agreement (RULES.md §1), or the one
    `non-union` agreement: no guild, no term, no tier (RULES.md §1 `non-union`: the general
    consent rules and state law only, no union pay rules)."""

    Tier = AgreementTier

    guild = models.ForeignKey(
        Guild,
        on_delete=models.PROTECT,
        related_name="agreements",
        null=True,
        blank=True,
        help_text="Empty only for the non-union agreement.",
    )
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    effective_from = models.DateField(
        null=True, blank=True, help_text="Empty only for the non-union agreement."
    )
    effective_to = models.DateField(null=True, blank=True, help_text="Empty: no end date known.")
    # NULL, as in the agreement catalogue: the non-union agreement has no tier, not an empty one
    # (the constraint below allows no "").
    tier = models.CharField(  # noqa: DJ001
        max_length=3, choices=AgreementTier.choices, null=True, blank=True
    )
    source = models.TextField(help_text="Where the term comes from (RULES.md §1, evidence.md §0).")

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = [
            F("guild__code").asc(nulls_last=True),
            F("effective_from").asc(nulls_first=True),
            "code",
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="agreement_dates_ordered",
                violation_error_message="The agreement cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(code=NON_UNION, guild__isnull=True, tier__isnull=True)
                | (
                    ~Q(code=NON_UNION)
                    & Q(guild__isnull=False, effective_from__isnull=False)
                    # isnull: a NULL tier would make IN unknown, and a CHECK passes unknown.
                    & Q(tier__isnull=False, tier__in=[t.value for t in AgreementTier])
                ),
                name="agreement_guild_unless_non_union",
                violation_error_message=(
                    "Only the non-union agreement has no guild; every other agreement has a "
                    "guild, a start date and a tier."
                ),
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def is_union(self) -> bool:
        return self.guild_id is not None

    def in_force_on(self, day) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    def in_force_during(self, start, end) -> bool:
        """Whether the agreement is in force on some day from `start` to `end` (None: open)."""
        return (self.effective_to is None or start <= self.effective_to) and (
            end is None or self.effective_from is None or self.effective_from <= end
        )

    @property
    def term_label(self) -> str:
        """The term as staff read it: "2023-11-09 – 2026-06-30", "2026-05-02 – open", or
        "always (no term)"."""
        if self.effective_from is None and self.effective_to is None:
            return "always (no term)"
        start = self.effective_from.isoformat() if self.effective_from else "open"
        end = self.effective_to.isoformat() if self.effective_to else "open"
        return f"{start} – {end}"


class Person(models.Model):
    """A performer, writer or crew member. Registered by a studio; seen by the studios that engage
    them and the guilds they belong to or work under."""

    legal_name = models.CharField(max_length=200)
    professional_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    payroll_ref = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="The person's id in payroll."
    )
    registered_by = models.ForeignKey(
        Studio, on_delete=models.PROTECT, null=True, blank=True, related_name="registered_people"
    )
    is_deceased = models.BooleanField(default=False)
    date_of_death = models.DateField(null=True, blank=True)
    authorized_representative = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who consents for a deceased performer (RULES.md sag.consent.deceased).",
    )
    representative_email = models.EmailField(
        blank=True,
        help_text="The recorded address of whoever signs for the person: a deceased "
        "performer's authorized representative, a minor's parent or guardian. Consent requests "
        "for them go there.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["legal_name", "id"]
        verbose_name_plural = "people"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_deceased=True)
                | Q(date_of_death__isnull=True, authorized_representative=""),
                name="person_death_fields_only_if_deceased",
                violation_error_message=(
                    "A date of death or an authorized representative needs is_deceased."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return self.professional_name or self.legal_name


class Membership(models.Model):
    """A person's membership of a guild, with the guild's member number."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    guild = models.ForeignKey(Guild, on_delete=models.PROTECT, related_name="memberships")
    member_number = models.CharField(max_length=40)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["guild__code"]
        constraints = [
            models.UniqueConstraint(fields=["person", "guild"], name="membership_one_per_guild"),
            models.UniqueConstraint(
                fields=["guild", "member_number"], name="membership_number_unique_in_guild"
            ),
            models.CheckConstraint(
                condition=~Q(member_number=""),
                name="membership_number_set",
                violation_error_message="A member number is required.",
            ),
        ]

    def __str__(self):
        return f"{self.guild.code} {self.member_number}"

    def unique_error_message(self, model_class, unique_check):
        # The number may be held by a person of another studio: the refusal (admin inline, the
        # services' full_clean) must not confirm that it exists there.
        if set(unique_check) == {"guild", "member_number"}:
            return ValidationError(
                membership_number_unavailable(self.guild if self.guild_id else None),
                code="unique_together",
            )
        return super().unique_error_message(model_class, unique_check)


def membership_number_unavailable(guild) -> str:
    """The one refusal of a member number already recorded, whoever holds it."""
    code = f"{guild.code} " if guild is not None else ""
    return f"This {code}member number cannot be recorded; check it with the guild."


class ProductionKind(models.TextChoices):
    THEATRICAL = "theatrical"
    TELEVISION = "television"
    NEW_MEDIA = "new_media"
    INTERACTIVE = "interactive"


class BudgetTier(models.TextChoices):
    LOW = "low", "Low budget"
    HIGH = "high", "High budget"


class ProductionStatus(models.TextChoices):
    DEVELOPMENT = "development"
    PRE_PRODUCTION = "pre_production"
    PRINCIPAL_PHOTOGRAPHY = "principal_photography"
    POST_PRODUCTION = "post_production"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Production(models.Model):
    Kind = ProductionKind
    BudgetTier = BudgetTier
    Status = ProductionStatus

    studio = models.ForeignKey(Studio, on_delete=models.PROTECT, related_name="productions")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ProductionKind.choices)
    episode_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Television only: the episode length in minutes."
    )
    budget_tier = models.CharField(max_length=10, choices=BudgetTier.choices, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=30, choices=ProductionStatus.choices, default=ProductionStatus.DEVELOPMENT
    )
    agreements: "models.ManyToManyField[Agreement, ProductionAgreement]" = models.ManyToManyField(
        Agreement, through="ProductionAgreement", related_name="productions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["studio__name", "title"]
        constraints = [
            models.UniqueConstraint(fields=["studio", "title"], name="production_title_per_studio"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="production_dates_ordered",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                # episode_minutes__isnull=False: NULL > 0 is NULL, and a NULL check passes.
                condition=Q(kind="television", episode_minutes__isnull=False, episode_minutes__gt=0)
                | (~Q(kind="television") & Q(episode_minutes__isnull=True)),
                name="production_episode_minutes_iff_television",
                violation_error_message=(
                    "Television productions need episode_minutes (above 0); other kinds have none."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ProductionKind]),
                name="production_kind_valid",
                violation_error_message="Unknown production kind.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ProductionStatus]),
                name="production_status_valid",
                violation_error_message="Unknown production status.",
            ),
        ]

    def __str__(self):
        return self.title


class ProductionAgreement(models.Model):
    """An agreement attached to a production. Engagements may only use attached agreements."""

    production = models.ForeignKey(Production, on_delete=models.CASCADE, related_name="attachments")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="attachments")
    attached_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["agreement__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["production", "agreement"], name="production_agreement_unique"
            ),
        ]

    def __str__(self):
        return f"{self.production} — {self.agreement}"


class Classification(models.TextChoices):
    """What a person is engaged as; each belongs to one guild."""

    DAY_PERFORMER = "day_performer"
    WEEKLY_PERFORMER = "weekly_performer"
    BACKGROUND_ACTOR = "background_actor"
    STAND_IN = "stand_in"
    WRITER = "writer"
    CREW_HOURLY = "crew_hourly"
    CREW_WEEKLY = "crew_weekly"


CLASSIFICATION_GUILD: dict[str, str] = {
    Classification.DAY_PERFORMER: "sag-aftra",
    Classification.WEEKLY_PERFORMER: "sag-aftra",
    Classification.BACKGROUND_ACTOR: "sag-aftra",
    Classification.STAND_IN: "sag-aftra",
    Classification.WRITER: "wga",
    Classification.CREW_HOURLY: "iatse",
    Classification.CREW_WEEKLY: "iatse",
}


class RateUnit(models.TextChoices):
    DAY = "day"
    WEEK = "week"
    HOUR = "hour"
    FLAT = "flat"


class Engagement(models.Model):
    """A person engaged on a production under one of its attached agreements.

    Under a guild's agreement the classification is one of that guild's. Under `non-union` any
    classification is recorded, for a person who is not a member of the guild it belongs to.

    The pair (production, agreement) is also a foreign key to ProductionAgreement in the database
    (migration 0003), so an engagement can neither name an unattached agreement nor outlive the
    attachment.
    """

    RateUnit = RateUnit

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="engagements")
    production = models.ForeignKey(Production, on_delete=models.PROTECT, related_name="engagements")
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="engagements")
    classification = models.CharField(max_length=30, choices=Classification.choices)
    role = models.CharField(
        max_length=200, blank=True, help_text="Character, writing assignment or craft and local."
    )
    rate_amount = money_field()
    rate_unit = models.CharField(max_length=10, choices=RateUnit.choices)
    rate_currency = currency_field()
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["production__title", "person__legal_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_amount__gt=0),
                name="engagement_rate_positive",
                violation_error_message="The rate must be above zero.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="engagement_dates_ordered",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(rate_unit__in=[u.value for u in RateUnit]),
                name="engagement_rate_unit_valid",
                violation_error_message="Unknown rate unit.",
            ),
            models.CheckConstraint(
                condition=Q(rate_currency__in=[c.value for c in Currency]),
                name="engagement_currency_valid",
                violation_error_message="Unknown currency.",
            ),
            models.CheckConstraint(
                condition=Q(classification__in=[c.value for c in Classification]),
                name="engagement_classification_valid",
                violation_error_message="Unknown classification.",
            ),
        ]
        indexes = [models.Index(fields=["production", "agreement"])]

    def __str__(self):
        return f"{self.person} on {self.production} ({self.classification})"

    def clean(self):
        errors = {}
        if self.production_id and self.agreement_id:
            attached = ProductionAgreement.objects.filter(
                production_id=self.production_id, agreement_id=self.agreement_id
            ).exists()
            if not attached:
                errors["agreement"] = "This agreement is not attached to the production."
        if self.agreement_id and self.classification in CLASSIFICATION_GUILD:
            guild_code = CLASSIFICATION_GUILD[self.classification]
            agreement_guild = self.agreement.guild
            if agreement_guild is None:
                if self._member_of_covering_guild(guild_code):
                    errors["agreement"] = (
                        f"The person is a {guild_code} member: as {self.classification} they "
                        f"are engaged under a {guild_code} agreement, not {NON_UNION}."
                    )
            elif agreement_guild.code != guild_code:
                errors["classification"] = (
                    f"{self.classification} is a {guild_code} classification; the agreement is "
                    f"{agreement_guild.code}'s."
                )
        if errors:
            raise ValidationError(errors)

    def _member_of_covering_guild(self, guild_code: str) -> bool:
        """Whether a non-union engagement would cover work of a member of `guild_code`, the
        guild of its classification (RULES.md §1 `non-union`: work no guild covers).

        Checked when the engagement is made or moved to non-union or to another classification,
        not on every later edit: joining a guild afterwards does not undo work already done."""
        if not self.person_id:
            return False
        if not self._state.adding and self.pk is not None:
            stored = Engagement.objects.filter(pk=self.pk).values("agreement_id", "classification")
            if stored and stored[0] == {
                "agreement_id": self.agreement_id,
                "classification": self.classification,
            }:
                return False
        return Membership.objects.filter(person_id=self.person_id, guild__code=guild_code).exists()


class StudioStaff(models.Model):
    """A user who works for a studio: sees and changes that studio's data."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_roles"
    )
    studio = models.ForeignKey(Studio, on_delete=models.CASCADE, related_name="staff")

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name_plural = "studio staff"
        constraints = [
            models.UniqueConstraint(fields=["user", "studio"], name="studio_staff_unique"),
        ]

    def __str__(self):
        return f"{self.user} at {self.studio}"


class GuildStaff(models.Model):
    """A user who works for a guild: sees the work done under that guild's agreements."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guild_roles"
    )
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="staff")

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name_plural = "guild staff"
        constraints = [
            models.UniqueConstraint(fields=["user", "guild"], name="guild_staff_unique"),
        ]

    def __str__(self):
        return f"{self.user} at {self.guild}"
