"""Everything held about a person, as one JSON document (GDPR Art. 15 access and Art. 20
portability): the registry rows, consents with their evidence's metadata and SHA-256, the AI-use
register, work records and compensation lines, payables with what was owed, paid and is due,
the journal postings on the person's accounts, receipts sent to them, the rows of stored reports
that name them, and the history of every audited row. Amounts travel as decimal strings beside
their currency.

Rows are written out field by field (`row`), so a field added to a model appears in the export
without a change here. Nothing about another person is included: report rows are those naming
this person, journal postings those on this person's accounts.
"""

import hashlib
import json
from collections.abc import Callable, Collection
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Model, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from compensation.models import (
    CompensationLine,
    EngagementTerms,
    HoldResolution,
    Timecard,
    WgaDelivery,
)
from consent.models import (
    AiUse,
    AiUseVoid,
    Consent,
    ConsentEvent,
    ConsentRequest,
    ConsentSignature,
    WgaDisclosure,
)
from ledger.journal.services import payable_amounts
from ledger.models import (
    Account,
    Engagement,
    JournalTransaction,
    Membership,
    Payable,
    Payment,
    Person,
    Posting,
)
from reports.models import ReceiptDelivery, Report

from .holdings import HOLDINGS
from .models import ErasureRecord, ExportRecord

FORMAT = "guild-ledger.person-export/1"

# A JSON object as Python holds it (values: str, int, bool, None, lists and objects).
JsonObject = dict[str, Any]


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def row(obj: Model, *, exclude: Collection[str] = ()) -> JsonObject:
    """A model row as JSON: every concrete field, foreign keys as ids."""
    return {
        f.attname: _json(f.value_from_object(obj))
        for f in obj._meta.concrete_fields
        if f.attname not in exclude
    }


def _rows(qs: QuerySet[Any], **extra: Callable[[Any], Any]) -> list[JsonObject]:
    return [{**row(obj), **{k: fn(obj) for k, fn in extra.items()}} for obj in qs.order_by("pk")]


def _evidence(consent: Consent) -> JsonObject:
    stored = bool(consent.evidence.name) and consent.evidence.storage.exists(consent.evidence.name)
    return {
        "name": consent.evidence_name,
        "sha256": consent.evidence_sha256,
        "size": consent.evidence_size,
        "stored": stored,
    }


def _payables(person: Person) -> list[JsonObject]:
    def amounts(p: Payable) -> dict[str, str]:
        return {k: str(v) for k, v in payable_amounts(p.pk).items()} | {"currency": p.currency}

    return _rows(Payable.objects.filter(person=person), amounts=amounts)


def _journal(person: Person) -> list[JsonObject]:
    """Transactions with postings on the person's accounts, and only those postings."""
    accounts = dict(Account.objects.filter(person=person).values_list("pk", "key"))
    postings = Posting.objects.filter(account_id__in=accounts).order_by("transaction__seq", "pk")
    by_tx: dict[UUID, list[JsonObject]] = {}
    for posting in postings:
        by_tx.setdefault(posting.transaction_id, []).append(
            {
                "account": accounts[posting.account_id],
                "amount": str(posting.amount),
                "currency": posting.currency,
                "payable": posting.payable_id,
                "effect": posting.effect,
            }
        )
    transactions = JournalTransaction.objects.filter(pk__in=by_tx).order_by("seq")
    return [
        {
            "seq": tx.seq,
            "kind": tx.kind,
            "description": tx.description,
            "effective_date": tx.effective_date.isoformat(),
            "hash": tx.hash,
            "postings": by_tx[tx.pk],
        }
        for tx in transactions
    ]


def _names(person: Person) -> set[str]:
    return {n for n in (person.name, person.legal_name, person.professional_name) if n}


def _report_rows(person: Person) -> list[JsonObject]:
    """The rows of stored reports that name the person (reports name people, not ids)."""
    names = _names(person)
    query = Q(pk__in=[])
    for name in names:
        query |= Q(content__icontains=name)
    found = []
    for report in Report.objects.filter(query).order_by("pk"):
        content = json.loads(report.content)
        rows = [
            {"section": section["key"], **r}
            for section in content.get("sections", [])
            for r in section.get("rows", [])
            if r.get("person") in names
        ]
        if rows:
            found.append(
                {
                    "report": report.pk,
                    "generated_at": report.generated_at.isoformat(),
                    "sha256": report.sha256,
                    "rows": rows,
                }
            )
    return found


def _history(person: Person) -> dict[str, list[JsonObject]]:
    history = {}
    for holding in HOLDINGS:
        model = holding.history_model
        if model is None or holding.path is None:
            continue
        rows = model._default_manager.filter(**{holding.path: person.pk}).order_by("history_id")
        history[holding.label] = [row(h) for h in rows]
    return history


def _erasure(person: Person) -> JsonObject | None:
    record = ErasureRecord.objects.filter(person=person).first()
    return row(record) if record else None


def person_export(person: Person) -> JsonObject:
    """Everything held about `person`, JSON-serialisable."""
    engagements = Engagement.objects.filter(person=person)
    of_engagements = {"engagement__person": person}
    return {
        "format": FORMAT,
        "generated_at": timezone.now().isoformat(),
        "person": row(person),
        "memberships": _rows(Membership.objects.filter(person=person)),
        "engagements": _rows(
            engagements.select_related("production", "agreement"),
            production_title=lambda e: e.production.title,
            agreement_code=lambda e: e.agreement.code,
        ),
        "engagement_terms": _rows(EngagementTerms.objects.filter(**of_engagements)),
        "timecards": _rows(Timecard.objects.filter(**of_engagements)),
        "wga_deliveries": _rows(WgaDelivery.objects.filter(**of_engagements)),
        "consents": _rows(Consent.objects.filter(person=person), evidence=_evidence),
        "consent_events": _rows(ConsentEvent.objects.filter(consent__person=person)),
        "consent_requests": [
            row(r, exclude={"token_hash"})
            for r in ConsentRequest.objects.filter(person=person).order_by("pk")
        ],
        "consent_signatures": _rows(ConsentSignature.objects.filter(request__person=person)),
        "ai_uses": _rows(AiUse.objects.filter(person=person)),
        "ai_use_voids": _rows(AiUseVoid.objects.filter(use__person=person)),
        "wga_disclosures": _rows(WgaDisclosure.objects.filter(writer=person)),
        "compensation_lines": _rows(CompensationLine.objects.filter(**of_engagements)),
        "hold_resolutions": _rows(HoldResolution.objects.filter(ai_use__person=person)),
        "payables": _payables(person),
        "payments": _rows(Payment.objects.filter(payable__person=person)),
        "journal": _journal(person),
        "receipt_deliveries": _rows(ReceiptDelivery.objects.filter(consent__person=person)),
        "reports": _report_rows(person),
        "history": _history(person),
        "exports": _rows(ExportRecord.objects.filter(person=person)),
        "erasure": _erasure(person),
    }


def canonical(export: JsonObject) -> bytes:
    return json.dumps(export, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(export: JsonObject) -> str:
    return hashlib.sha256(canonical(export)).hexdigest()
