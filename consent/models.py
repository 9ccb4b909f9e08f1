"""Consents, their events, union notices, strike periods, WGA disclosures and the AI-use register
(RULES.md §2 and §4).

A granted consent is evidence: it is never edited. A change of scope is a new consent that
supersedes the old one; revocation, suspension and resumption are events with who, when and why.
Consents, their events and the AI-use register are append-only in the database itself (migration
0002 of this app, the same triggers as the journal). The evidence document is kept through
Django's storage with the SHA-256 of its bytes, so a later change to the file is detectable
(`manage.py verify_evidence`).
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from core.audit import AuditedManager, history
from core.money import Currency, currency_field, money_field
from ledger.models import Agreement, Guild, Person, Production

from . import rules


def _choices(values):
    return [(v, v.replace("_", " ")) for v in values]


ConsentKind = _choices(rules.CONSENT_KINDS)
UseKind = _choices(rules.USE_KINDS)
Instrument = _choices(rules.INSTRUMENTS)
Capacity = _choices(rules.CAPACITIES)
Category = _choices(rules.CATEGORIES)
AlterationException = _choices(rules.ALTERATION_EXCEPTIONS)
UnionNoticeKind = _choices(rules.UNION_NOTICE_KINDS)
AdExemption = _choices(rules.AD_EXEMPTIONS)

# A governing law is an ISO 3166-2 subdivision code ("US-CA"); a place an advertisement is
# distributed in is a country (ISO 3166-1 alpha-2, "US") or such a subdivision (RULES.md §2,
# law.*; §4).
SUBDIVISION_PATTERN = r"\A[A-Z]{2}-[A-Z0-9]{1,3}\Z"
REGION_PATTERN = r"\A[A-Z]{2}(-[A-Z0-9]{1,3})?\Z"
# The laws the state-law rules name (law.ca.*, law.ny.*, law.il.*): offered first in forms; any
# other valid code is taken too, and decides by the union rules alone.
STATE_LAWS = {"US-CA": "California", "US-NY": "New York", "US-IL": "Illinois"}
validate_subdivision = RegexValidator(
    SUBDIVISION_PATTERN,
    "An ISO 3166-2 code in capitals: two letters, a dash, one to three letters or digits "
    '("US-CA").',
    code="invalid_governing_law",
)


def validate_regions(value) -> None:
    """law.ny.gbl396b's `distributed_in`: a list of distinct country or ISO 3166-2 codes."""
    if not isinstance(value, list) or not all(
        isinstance(code, str) and re.fullmatch(REGION_PATTERN, code) for code in value
    ):
        raise ValidationError(
            'A list of country or ISO 3166-2 codes in capitals, e.g. ["US-NY"].',
            code="invalid_distributed_in",
        )
    if len(set(value)) != len(value):
        raise ValidationError("A place is listed twice.", code="invalid_distributed_in")


class Representation(models.TextChoices):
    """NY GOL §5-302 and Cal. Labor Code §927: a replica clause without a reasonably specific
    description is void unless the person had counsel or a union agreement covering replicas."""

    NONE = "none"
    COUNSEL = "counsel"
    UNION = "union"


def _valid(field: str, values) -> Q:
    return Q(**{f"{field}__in": list(values)})


# What a person (or their representative) signs: the fields a consent is granted with, in the
# order forms show them. The evidence file is uploaded beside them.
GRANT_FIELDS = (
    "person",
    "production",
    "agreement",
    "category",
    "kind",
    "description",
    "scenes",
    "media",
    "territory",
    "term_from",
    "term_to",
    "instrument",
    "signed_at",
    "signed_by",
    "signed_by_capacity",
    "notice_at",
    "engaged_at",
    "business_reason",
    # State law (RULES.md §2 law.*, §4, 2026 revision).
    "governing_law",
    "performance_fixed_on",
    "replaces_in_person_work",
    "represented_by",
    "terms_initialed",
    "bargained_amount",
    "bargained_currency",
    "named_in_disclosure",
    "supersedes",
)
# What a production records about one AI use; the decision is added when it is recorded.
USE_FIELDS = (
    "production",
    "person",
    "kind",
    "starts_at",
    "ends_at",
    "days",
    "description",
    "scenes",
    "alteration_exception",
    *rules.USE_FLAGS,
    # sag.consent.synthetic_value and law.ny.gbl396b (2026 revision).
    "synthetic_justification",
    "distributed_in",
    "ad_exemption",
)

# The yes/no facts of a use that the consent check decides on (rules.UseFlags); AiUse stores
# each in a column of the same name.
USE_FLAGS = rules.USE_FLAGS


def evidence_path(instance, filename):
    return f"evidence/{instance.evidence_sha256[:2]}/{instance.evidence_sha256}/{filename}"


class Consent(models.Model):
    """One grant of consent, with every field of RULES.md §4. Never edited."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    production = models.ForeignKey(Production, on_delete=models.PROTECT, related_name="consents")
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        related_name="consents",
        help_text="The agreement version the consent is given under.",
    )
    category = models.CharField(max_length=20, choices=Category)
    kind = models.CharField(max_length=30, choices=ConsentKind)
    description = models.TextField(
        help_text="The reasonably specific description of the intended use (sag.consent.specific)."
    )
    scenes = models.CharField(max_length=500, blank=True, help_text="Scenes or episodes.")
    media = models.CharField(max_length=500, blank=True)
    territory = models.CharField(max_length=200, blank=True)
    term_from = models.DateField()
    term_to = models.DateField(null=True, blank=True, help_text="Empty: no end.")
    instrument = models.CharField(max_length=30, choices=Instrument)
    signed_at = models.DateTimeField()
    signed_by = models.CharField(max_length=200, help_text="The name of whoever signed.")
    signed_by_capacity = models.CharField(max_length=20, choices=Capacity)
    represented_by = models.CharField(
        max_length=10,
        choices=Representation.choices,
        default=Representation.NONE,
        help_text="Counsel who negotiated the consent, or a union whose agreement covers "
        "replicas (law.ca.lab927, law.ny.gol5_302, law.il.dvlpa).",
    )
    notice_at = models.DateTimeField(
        null=True, blank=True, help_text="When the performer was notified of the scan."
    )
    engaged_at = models.DateTimeField(null=True, blank=True, help_text="When they were engaged.")
    business_reason = models.TextField(blank=True, help_text="For a scan (2026 agreement).")
    governing_law = models.CharField(
        max_length=6,
        blank=True,
        validators=[validate_subdivision],
        help_text='The law the consent is governed by, an ISO 3166-2 code ("US-CA"); empty: '
        "none stated.",
    )
    performance_fixed_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the performance the replica is made from was fixed (law.ca.lab927, "
        "law.ny.gol5_302).",
    )
    replaces_in_person_work = models.BooleanField(
        default=False,
        help_text="The replica may be used in place of work the person would otherwise have "
        "performed in person.",
    )
    terms_initialed = models.BooleanField(
        default=False,
        help_text="The replica terms were clear, conspicuous and signed or initialed by the "
        "person.",
    )
    bargained_amount = money_field(
        null=True, blank=True, help_text="For use in another production and ICDR use."
    )
    bargained_currency = currency_field()
    named_in_disclosure = models.BooleanField(
        default=False,
        help_text="The person agreed to be named in the production's published AI disclosure "
        "label; otherwise the label gives counts only.",
    )
    evidence = models.FileField(upload_to=evidence_path, max_length=300)
    evidence_name = models.CharField(max_length=200)
    evidence_sha256 = models.CharField(max_length=64)
    evidence_size = models.PositiveBigIntegerField()
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text="The consent this one replaces; it no longer covers anything.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["person", "production", "kind"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_to__isnull=True) | Q(term_to__gte=F("term_from")),
                name="consent_term_ordered",
                violation_error_message="The term cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=_valid("kind", rules.CONSENT_KINDS), name="consent_kind_valid"
            ),
            models.CheckConstraint(
                condition=_valid("instrument", rules.INSTRUMENTS), name="consent_instrument_valid"
            ),
            models.CheckConstraint(
                condition=_valid("signed_by_capacity", rules.CAPACITIES),
                name="consent_capacity_valid",
            ),
            models.CheckConstraint(
                condition=_valid("category", rules.CATEGORIES), name="consent_category_valid"
            ),
            models.CheckConstraint(
                condition=_valid("represented_by", Representation.values),
                name="consent_representation_valid",
            ),
            models.CheckConstraint(
                condition=_valid("bargained_currency", Currency.values),
                name="consent_currency_valid",
            ),
            models.CheckConstraint(
                condition=Q(bargained_amount__isnull=True) | Q(bargained_amount__gte=0),
                name="consent_bargained_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(supersedes=F("id")), name="consent_not_superseding_itself"
            ),
            models.CheckConstraint(
                condition=Q(evidence_sha256__regex=r"^[0-9a-f]{64}$"),
                name="consent_evidence_sha256_hex",
            ),
            models.CheckConstraint(
                condition=Q(governing_law="") | Q(governing_law__regex=SUBDIVISION_PATTERN),
                name="consent_governing_law_iso_3166_2",
                violation_error_message="The governing law is an ISO 3166-2 code (US-CA).",
            ),
            models.CheckConstraint(
                condition=~Q(description=""),
                name="consent_description_set",
                violation_error_message="A description of the intended use is required.",
            ),
        ]

    def __str__(self):
        return f"{self.kind} consent #{self.pk} of {self.person} for {self.production}"


class ConsentEvent(models.Model):
    """A revocation, suspension or resumption of a consent: who, when (effective) and why."""

    class Kind(models.TextChoices):
        REVOKED = "revoked"
        SUSPENDED = "suspended"
        RESUMED = "resumed"

    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    effective_at = models.DateTimeField()
    reason = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["effective_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=_valid("kind", ["revoked", "suspended", "resumed"]),
                name="consent_event_kind_valid",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="consent_event_reason_set"),
        ]

    def __str__(self):
        return f"{self.kind} {self.effective_at:%Y-%m-%d %H:%M} (consent #{self.consent_id})"


class UnionNotice(models.Model):
    """A notice to a union: a synthetic performer's use (sag.consent.synthetic), the impact of
    AI systems on covered employees (iatse.ai_impact_notice) or the licence of a writer's
    material for AI training (wga.training_notice, 2026)."""

    production = models.ForeignKey(
        Production, on_delete=models.PROTECT, related_name="union_notices"
    )
    guild = models.ForeignKey(Guild, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=30, choices=UnionNoticeKind)
    given_at = models.DateTimeField()
    description = models.TextField()
    recipient = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["-given_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_valid("kind", rules.UNION_NOTICE_KINDS), name="union_notice_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kind} notice to {self.guild.code} for {self.production}"


class StrikePeriod(models.Model):
    """A strike of a guild (sag.consent.strike): no replica use dated inside it (2026)."""

    guild = models.ForeignKey(Guild, on_delete=models.PROTECT, related_name="strikes")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Empty: not ended.")
    description = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="strike_period_dates_ordered",
                violation_error_message="A strike cannot end before it starts.",
            ),
        ]

    def __str__(self):
        return f"{self.guild.code} strike from {self.starts_on}"


class WgaDisclosure(models.Model):
    """The company's disclosure to a writer that material handed over is, or contains, AI-generated
    material (wga.disclosure)."""

    production = models.ForeignKey(
        Production, on_delete=models.PROTECT, related_name="wga_disclosures"
    )
    writer = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="wga_disclosures")
    material = models.TextField(help_text="What was handed over.")
    handed_over_on = models.DateField()
    disclosed_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(material=""), name="wga_disclosure_material_set"),
        ]

    def __str__(self):
        return f"AI-material disclosure to {self.writer} on {self.handed_over_on}"


class AiUse(models.Model):
    """An entry of a production's AI-use register, with the consent decision made when it was
    recorded. A use without valid consent is still recorded, as a violation: the register is
    evidence, so entries are never edited."""

    class Status(models.TextChoices):
        ALLOWED = "allowed"
        VIOLATION = "violation"

    production = models.ForeignKey(Production, on_delete=models.PROTECT, related_name="ai_uses")
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ai_uses",
        help_text="Empty only for a synthetic performer made from no one's features.",
    )
    kind = models.CharField(max_length=30, choices=UseKind)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    days = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Days the performer would have worked (sag.pay.ebdr_use).",
    )
    description = models.TextField()
    scenes = models.CharField(max_length=500, blank=True)
    alteration_exception = models.CharField(max_length=40, choices=AlterationException, blank=True)
    synthetic_source_person = models.BooleanField(default=False)
    company_required = models.BooleanField(default=False)
    displacing_prompts = models.BooleanField(default=False)
    condition_of_employment = models.BooleanField(default=False)
    material_handed_over = models.BooleanField(default=False)
    counted_toward_headcount = models.BooleanField(
        default=False,
        help_text="A background actor's replica counted toward the production's required "
        "background headcount (never allowed: sag.consent.background).",
    )
    human_role = models.BooleanField(
        default=False,
        help_text="The synthetic performer plays a role a human would play "
        "(sag.consent.synthetic_value).",
    )
    synthetic_justification = models.TextField(
        blank=True,
        help_text="Why the synthetic performer in a human role brings significant additional "
        "value (sag.consent.synthetic_value).",
    )
    advertisement = models.BooleanField(
        default=False, help_text="The use is in an advertisement (law.ny.gbl396b)."
    )
    distributed_in = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_regions],
        help_text="Where the advertisement is distributed: country or ISO 3166-2 codes, e.g. "
        '["US-NY"].',
    )
    disclosure_given = models.BooleanField(
        default=False,
        help_text="The advertisement conspicuously discloses the synthetic performer.",
    )
    ad_exemption = models.CharField(
        max_length=20,
        choices=AdExemption,
        blank=True,
        help_text="The exemption of law.ny.gbl396b that applies, if any.",
    )
    # The decision, made once when the use was recorded.
    status = models.CharField(max_length=10, choices=Status.choices)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="ai_uses")
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="uses"
    )
    rules = models.JSONField(default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    # Advisory and unconfirmed rules' notes ([{"rule", "message"}]): they never refuse a use.
    warnings = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name = "AI use"
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["production", "status"]),
            models.Index(fields=["person", "starts_at"]),
            # The register's order (violations first, newest first): its first page reads 50
            # entries from this index instead of sorting every use in scope.
            models.Index(
                F("status").desc(),
                F("starts_at").desc(),
                F("id").desc(),
                name="ai_use_register_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=_valid("kind", rules.USE_KINDS), name="ai_use_kind_valid"
            ),
            models.CheckConstraint(
                condition=_valid("status", ["allowed", "violation"]), name="ai_use_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=F("starts_at")),
                name="ai_use_dates_ordered",
                violation_error_message="The use cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(days__isnull=True) | Q(days__gte=0), name="ai_use_days_not_negative"
            ),
            models.CheckConstraint(
                condition=_valid("ad_exemption", ["", *rules.AD_EXEMPTIONS]),
                name="ai_use_ad_exemption_valid",
            ),
        ]

    def __str__(self):
        # The id and the date tell apart uses of one kind, person and production (in the
        # lists that pick one, such as the hold resolutions').
        what = self.get_kind_display() + (f" of {self.person}" if self.person else "")
        on = f", {self.starts_at:%Y-%m-%d}" if self.starts_at else ""
        status = self.get_status_display().lower()
        return f"AI use #{self.pk}: {what} in {self.production}{on} ({status})"


class AiUseVoid(models.Model):
    """The void of a use recorded by mistake (against the wrong consent, say): who, when and why.
    The use and its history stay in the register; a voided use counts in no decision, report
    section, compensation run or dashboard, and reports list it apart. Append-only like the
    register: a void is never edited or withdrawn (a use voided by mistake is recorded again)."""

    use = models.OneToOneField(AiUse, on_delete=models.PROTECT, related_name="void")
    reason = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    voided_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history()

    class Meta:
        verbose_name = "AI use void"
        ordering = ["-voided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="ai_use_void_reason_set",
                violation_error_message="A reason for the void is required.",
            ),
        ]

    def __str__(self):
        return f"void of AI use #{self.use_id}"


# What a consent request asks the person to sign: the grant's fields that staff prepare. The
# signing itself gives the rest (instrument: a separate writing; when, by whom, in what capacity;
# the notice instant is when the request was sent; initials where the counsel route needs them).
REQUEST_FIELDS = (
    "person",
    "production",
    "agreement",
    "category",
    "kind",
    "description",
    "scenes",
    "media",
    "territory",
    "term_from",
    "term_to",
    "engaged_at",
    "business_reason",
    "governing_law",
    "performance_fixed_on",
    "replaces_in_person_work",
    "represented_by",
    "bargained_amount",
    "bargained_currency",
    "named_in_disclosure",
)


class ConsentRequest(models.Model):
    """A consent prepared by studio staff and sent to the person (or whoever signs for them) to
    sign on the product's signing page. The link's secret is never stored: only its SHA-256,
    which is cleared once the link can no longer be used. Signing records the consent through
    consent_grant, with the document shown as its evidence."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        SENT = "sent"
        VIEWED = "viewed"
        SIGNED = "signed"
        DECLINED = "declined"
        EXPIRED = "expired"
        WITHDRAWN = "withdrawn"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consent_requests")
    production = models.ForeignKey(
        Production, on_delete=models.PROTECT, related_name="consent_requests"
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=20, choices=Category)
    kind = models.CharField(max_length=30, choices=ConsentKind)
    description = models.TextField(
        help_text="The reasonably specific description of the intended use (sag.consent.specific)."
    )
    scenes = models.CharField(max_length=500, blank=True, help_text="Scenes or episodes.")
    media = models.CharField(max_length=500, blank=True)
    territory = models.CharField(max_length=200, blank=True)
    term_from = models.DateField()
    term_to = models.DateField(null=True, blank=True, help_text="Empty: no end.")
    engaged_at = models.DateTimeField(null=True, blank=True, help_text="When they were engaged.")
    business_reason = models.TextField(blank=True, help_text="For a scan (2026 agreement).")
    governing_law = models.CharField(
        max_length=6, blank=True, validators=[validate_subdivision], help_text="ISO 3166-2."
    )
    performance_fixed_on = models.DateField(null=True, blank=True)
    replaces_in_person_work = models.BooleanField(default=False)
    represented_by = models.CharField(
        max_length=10, choices=Representation.choices, default=Representation.NONE
    )
    bargained_amount = money_field(null=True, blank=True)
    bargained_currency = currency_field()
    named_in_disclosure = models.BooleanField(default=False)

    signer_capacity = models.CharField(
        max_length=20,
        choices=Capacity,
        help_text="Who signs: the person (self), or for a deceased performer or a minor their "
        "representative.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When the link expires.")
    sent_to = models.EmailField(blank=True, help_text="The recorded address it was sent to.")
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was first sent: the notice instant."
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was signed, declined, withdrawn or expired."
    )
    decline_reason = models.TextField(blank=True)
    consent = models.OneToOneField(
        Consent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request",
        help_text="The consent its signature recorded.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AuditedManager()
    history = history(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_to__isnull=True) | Q(term_to__gte=F("term_from")),
                name="consent_request_term_ordered",
                violation_error_message="The term cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=_valid("kind", rules.CONSENT_KINDS), name="consent_request_kind_valid"
            ),
            models.CheckConstraint(
                condition=_valid(
                    "status",
                    ["draft", "sent", "viewed", "signed", "declined", "expired", "withdrawn"],
                ),
                name="consent_request_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(status="signed") & Q(consent__isnull=False))
                | (~Q(status="signed") & Q(consent__isnull=True)),
                name="consent_request_signed_has_consent",
            ),
            models.CheckConstraint(
                condition=Q(bargained_amount__isnull=True) | Q(bargained_amount__gte=0),
                name="consent_request_bargained_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=_valid("bargained_currency", Currency.values),
                name="consent_request_currency_valid",
            ),
            models.CheckConstraint(
                condition=~Q(description=""),
                name="consent_request_description_set",
                violation_error_message="A description of the intended use is required.",
            ),
        ]

    def __str__(self):
        what = self.get_kind_display()
        return f"consent request #{self.pk}: {what} of {self.person} for {self.production}"


class ConsentSignature(models.Model):
    """The record of intent, attribution and integrity of a consent signed on the signing page:
    the document shown (its canonical JSON, with the PDF kept as the consent's evidence), its
    SHA-256, the instants of sending, viewing and signing, the typed name and capacity of the
    signer, the initials given, and a keyed digest of the signer's network address and browser.
    Never edited."""

    request = models.OneToOneField(
        ConsentRequest, on_delete=models.PROTECT, related_name="signature"
    )
    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="signature")
    signed_name = models.CharField(max_length=200, help_text="The full name the signer typed.")
    capacity = models.CharField(max_length=20, choices=Capacity)
    initials = models.JSONField(default=dict, blank=True, help_text="{clause: initials}.")
    shown_json = models.TextField(help_text="What was shown, as canonical JSON.")
    shown_sha256 = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    viewed_at = models.DateTimeField()
    signed_at = models.DateTimeField()
    client_digest = models.CharField(
        max_length=64, help_text="A keyed digest of the network address and the user agent."
    )

    objects = AuditedManager()

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shown_sha256__regex=r"^[0-9a-f]{64}$"),
                name="consent_signature_sha256_hex",
            ),
        ]

    def __str__(self):
        return f"signature of consent #{self.consent_id} by {self.signed_name}"
