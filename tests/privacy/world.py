"""Two people on one production, each with something in every table that can hold personal data:
Maggie (who asks to be erased) and Theo (who must come out of it untouched).

Maggie's values appear where staff and the services really put them: her names, e-mail, payroll
and member references on the registry, an earlier professional name in history, her name in a
consent's description and a suspension's reason, in the AI-use register and a void's reason, a
WGA disclosure, a union notice, a compensation line, a hold resolution, a receipt e-mailed to her,
the admin's log and a stored compliance report. Her payable is paid in full; Theo's is still due.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from compensation.models import CompensationLine, CompensationRun, HoldResolution
from consent import services as consent_services
from ledger.access import SYSTEM_SCOPE, Scope, scope_for
from ledger.journal.services import payable_create, payment_confirm
from ledger.models import Person
from ledger.registry import services as ledger_services
from reports import compliance
from reports.models import ReceiptDelivery, Report
from reports.services import flag_raise, report_generate
from tests.factories import (
    SPECIFIC,
    EngagementFactory,
    ProductionFactory,
    UserFactory,
    evidence_file,
    grant_consent,
    guild,
    guild_staff,
)

MAGGIE = {
    "legal_name": "Marguerite Okonkwo-Vance",
    "professional_name": "Maggie Vance",
    "email": "maggie.vance@example.org",
    "payroll_ref": "PAY-MV-7731",
}
MAGGIE_EARLIER_NAME = "Maggie V. Okonkwo"
MAGGIE_MEMBER = "SAG-448812"
THEO = {
    "legal_name": "Theodora Blackwood",
    "professional_name": "Theo Blackwood",
    "email": "theo.blackwood@example.org",
    "payroll_ref": "PAY-TB-9902",
}
THEO_MEMBER = "SAG-550917"

MAGGIE_VALUES = [*MAGGIE.values(), MAGGIE_EARLIER_NAME, MAGGIE_MEMBER]
THEO_VALUES = [*THEO.values(), THEO_MEMBER]


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@dataclass
class World:
    officer: object
    clerk: object
    production: object
    maggie: Person
    theo: Person
    maggie_consent: object
    theo_consent: object
    maggie_payable: object
    theo_payable: object
    report: Report


def _person(actor, studio, values, member, *, professional_name=None):
    fields = dict(values)
    if professional_name:
        fields["professional_name"] = professional_name
    return ledger_services.person_create(
        actor=actor,
        registered_by=studio,
        memberships=[{"guild": guild("sag-aftra"), "member_number": member}],
        **fields,
    )


def _paid_payable(actor, engagement, *, pay: bool, reference: str):
    payable = payable_create(
        actor=actor,
        production=engagement.production,
        person=engagement.person,
        engagement=engagement,
        rule="sag.pay.day",
        description="Day pay 2025-06-02",
        amount=Decimal("1500.00"),
        currency="USD",
        period_from=date(2025, 6, 2),
        period_to=date(2025, 6, 2),
        due_date=date(2025, 6, 20),
        source_type="test",
        source_id=reference,
    )
    if pay:
        payment_confirm(
            actor=actor,
            client="user:payroll",
            idempotency_key=f"key-{reference}",
            payable=payable,
            amount=Decimal("1500.00"),
            paid_at=at(2025, 6, 21, 12),
            payroll_reference=reference,
            render=lambda p: {"id": p.pk, "amount": f"{p.amount:.2f}"},
        )
    return payable


def _uses(clerk, engagement, *, label):
    """An allowed replica use and one during the consent's suspension (a violation)."""
    scope = Scope(superuser=True)
    common = dict(
        actor=clerk,
        scope=scope,
        production=engagement.production,
        person=engagement.person,
        kind="replica_use",
        days=1,
    )
    finale = consent_services.ai_use_record(
        starts_at=at(2025, 6, 5, 9), description=f"Replica of {label} in the finale", **common
    )
    # A second entry of the finale, by mistake, voided with a reason that names the person.
    duplicate = consent_services.ai_use_record(
        starts_at=at(2025, 6, 5, 9), description="Replica in the finale, entered twice", **common
    )
    consent_services.ai_use_void(
        actor=clerk, use=duplicate, reason=f"{label}'s finale was already recorded (#{finale.pk})"
    )
    return consent_services.ai_use_record(
        starts_at=at(2025, 6, 13, 9), description=f"Replica of {label} in a reshoot", **common
    )


def _compensation(clerk, engagement, violation, *, label):
    run = CompensationRun.objects.create(
        production=engagement.production,
        period_from=date(2025, 6, 2),
        period_to=date(2025, 6, 8),
        due_date=date(2025, 6, 20),
        status=CompensationRun.Status.COMPUTED,
        started_by=clerk,
        started_at=at(2025, 6, 9),
    )
    CompensationLine.objects.create(
        run=run,
        engagement=engagement,
        rule="sag.pay.day",
        description=f"Day pay 2025-06-02 for {label}",
        date=date(2025, 6, 2),
        quantity=Decimal("1"),
        unit="day",
        rate=Decimal("1500"),
        amount=Decimal("1500.00"),
        currency="USD",
    )
    HoldResolution.objects.create(
        ai_use=violation,
        decision=HoldResolution.Decision.RELEASE,
        reason=f"{label} confirmed the reshoot by phone",
        resolved_by=clerk,
        resolved_at=at(2025, 6, 14),
    )


def build() -> World:
    officer = UserFactory(username="dpo", is_superuser=True)
    clerk = UserFactory(username="clerk")
    production = ProductionFactory(title="The Long Night")
    studio = production.studio
    maggie = _person(clerk, studio, MAGGIE, MAGGIE_MEMBER, professional_name=MAGGIE_EARLIER_NAME)
    maggie = ledger_services.person_update(
        actor=clerk, person=maggie, professional_name=MAGGIE["professional_name"]
    )
    theo = _person(clerk, studio, THEO, THEO_MEMBER)
    e_maggie = EngagementFactory(
        person=maggie, production=production, role="Lead, billed as Maggie Vance"
    )
    e_theo = EngagementFactory(person=theo, production=production, role="Support")
    maggie_consent = grant_consent(
        e_maggie,
        actor=clerk,
        description=f"{SPECIFIC}; the performer is Maggie Vance",
        evidence=evidence_file(b"%PDF-1.4 signed by Marguerite", "okonkwo-vance.pdf"),
    )
    theo_consent = grant_consent(
        e_theo, actor=clerk, evidence=evidence_file(b"%PDF-1.4 signed by Theodora", "tb.pdf")
    )
    for consent, label in ((maggie_consent, "Maggie Vance"), (theo_consent, "Theo Blackwood")):
        consent_services.consent_suspend(
            actor=clerk, consent=consent, reason=f"{label} asked to pause", at=at(2025, 6, 12)
        )
    maggie_violation = _uses(clerk, e_maggie, label="Maggie Vance")
    _uses(clerk, e_theo, label="Theo Blackwood")
    consent_services.wga_disclosure_record(
        actor=clerk,
        scope=SYSTEM_SCOPE,
        production=production,
        writer=maggie,
        material="Draft pages generated for Maggie Vance",
        handed_over_on=date(2025, 6, 3),
        disclosed_at=at(2025, 6, 3, 10),
    )
    consent_services.union_notice_record(
        actor=clerk,
        scope=SYSTEM_SCOPE,
        production=production,
        guild=guild("sag-aftra"),
        kind="synthetic_performer",
        given_at=at(2025, 6, 4),
        description="Synthetic performer with features of Maggie Vance and of no one else",
        recipient="SAG-AFTRA contracts",
    )
    _compensation(clerk, e_maggie, maggie_violation, label="Marguerite Okonkwo-Vance")
    maggie_payable = _paid_payable(clerk, e_maggie, pay=True, reference="PAYRUN-1")
    theo_payable = _paid_payable(clerk, e_theo, pay=False, reference="PAYRUN-2")
    ReceiptDelivery.objects.create(
        consent=maggie_consent, email=MAGGIE["email"], sent_by=clerk, sent_at=at(2025, 6, 2)
    )
    guild_rep = guild_staff("sag-aftra", "sag-rep")
    flag_raise(
        actor=guild_rep,
        scope=scope_for(guild_rep),
        target=maggie_consent,
        note="Ask Maggie Vance to confirm the rider's media",
    )
    LogEntry.objects.create(
        user=clerk,
        content_type=ContentType.objects.get_for_model(Person),
        object_id=str(maggie.pk),
        object_repr=str(maggie),
        action_flag=CHANGE,
        change_message="[]",
    )
    report, _ = report_generate(
        target=compliance.Target.of(production),
        period_from=date(2025, 6, 1),
        period_to=date(2025, 6, 30),
        origin=Report.Origin.ON_DEMAND,
        actor=officer,
        as_of=at(2025, 7, 1),
    )
    return World(
        officer,
        clerk,
        production,
        maggie,
        theo,
        maggie_consent,
        theo_consent,
        maggie_payable,
        theo_payable,
        report,
    )
