"""Every table of the ledger app, whichever room defines it: the registry, the journal, payroll and
webhooks. Django and the migrations know them as `ledger.<Model>`."""

from ledger.journal.models import (
    Account,
    Checkpoint,
    JournalTransaction,
    Payable,
    Payment,
    Posting,
)
from ledger.payroll.models import IdempotencyRecord, PayrollKey
from ledger.registry.models import (
    Agreement,
    AgreementTier,
    BudgetTier,
    Classification,
    Engagement,
    Guild,
    GuildStaff,
    Membership,
    Person,
    Production,
    ProductionAgreement,
    ProductionKind,
    ProductionStatus,
    RateUnit,
    Studio,
    StudioStaff,
)
from ledger.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "Agreement",
    "AgreementTier",
    "BudgetTier",
    "Checkpoint",
    "Classification",
    "Engagement",
    "Guild",
    "GuildStaff",
    "IdempotencyRecord",
    "JournalTransaction",
    "Membership",
    "Payable",
    "Payment",
    "PayrollKey",
    "Person",
    "Posting",
    "Production",
    "ProductionAgreement",
    "ProductionKind",
    "ProductionStatus",
    "RateUnit",
    "Studio",
    "StudioStaff",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
