"""Consent receipts: what the person agreed to (or withdrew), as a record they keep.

A receipt is shaped after the consent record of ISO/IEC TS 27560: who the PII principal is, who
the controller is, what was agreed to, under which instrument and by whom, the evidence's
SHA-256, the status of the consent, and the position the journal's hash chain had reached when
the record was made (so a receipt can be placed on a timeline no one can rewrite).

A receipt is a pure function of records that are never edited: the consent and, for a
revocation, suspension or resumption, that one event. It reads nothing recorded after the record
itself, so the same records give the same receipt, and its SHA-256, whenever it is asked for.
The status is read at the moment the record was recorded or, for an event that takes effect
later, at the moment it takes effect; only the events up to the record count.

The state-law facts of the 2026 revision (RULES.md §4: governing law, the date the performance
was fixed, whether the replica replaces in-person work, initialed terms) are the consent's
`state_law`, present when the consent states any of them: a receipt of a consent that states
none is the receipt, and the SHA-256, it always was.
"""

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal

from django.template.loader import render_to_string

from consent import selectors as consent_selectors
from consent.models import Consent, ConsentEvent
from core.money import money_display, money_str
from core.templatetags.money import instant
from ledger.journal import chain
from ledger.models import JournalTransaction

from .render import canonical_json

SCHEMA = "guild-ledger consent receipt, after ISO/IEC TS 27560"


def _iso(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _status(consent: Consent, events: list[ConsentEvent], at: datetime) -> str:
    """granted, revoked, suspended or expired at `at`, from `events` alone (the rule of
    consent.selectors.consent_status; a successor recorded later does not count)."""
    revoked = consent_selectors.revoked_at(events)
    if revoked is not None and revoked <= at:
        return "revoked"
    if any(s <= at and (e is None or e > at) for s, e in consent_selectors.suspensions(events)):
        return "suspended"
    if consent.term_to is not None and consent.term_to < at.astimezone(UTC).date():
        return "expired"
    return "granted"


def _state_law(consent: Consent) -> dict:
    """{"state_law": {...}} when the consent states any 2026 state-law fact, else {}."""
    facts = {
        "governing_law": consent.governing_law or None,
        "performance_fixed_on": _iso(consent.performance_fixed_on),
        "replaces_in_person_work": consent.replaces_in_person_work,
        "terms_initialed": consent.terms_initialed,
    }
    return {"state_law": facts} if any(facts.values()) else {}


def chain_position(at: datetime) -> dict:
    """The journal's last transaction created at or before `at`."""
    head = (
        JournalTransaction.objects.filter(created_at__lte=at)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    seq, head_hash = head or (0, chain.GENESIS)
    return {"seq": seq, "hash": head_hash}


def receipt(consent: Consent, event: ConsentEvent | None = None) -> dict:
    """The receipt of the grant (`event` None) or of one of its events, with its SHA-256."""
    if event is not None and event.consent_id != consent.pk:
        raise ValueError(f"Event #{event.pk} is not an event of consent #{consent.pk}.")
    person, production = consent.person, consent.production
    if event is None:
        record_id, recorded_at, events = f"consent-{consent.pk}", consent.created_at, []
        status_at = recorded_at
    else:
        record_id, recorded_at = f"consent-{consent.pk}-event-{event.pk}", event.recorded_at
        events = list(consent.events.filter(pk__lte=event.pk).order_by("effective_at", "id"))
        status_at = max(recorded_at, event.effective_at)
    bargained = None
    if consent.bargained_amount is not None:
        bargained = {
            "amount": money_str(consent.bargained_amount),
            "currency": consent.bargained_currency,
        }
    body = {
        "schema": SCHEMA,
        "record_id": record_id,
        "event": "granted" if event is None else event.kind,
        "pii_principal": {"id": person.pk, "name": person.name, "category": consent.category},
        "controller": {
            "studio": production.studio.name,
            "production": {"id": production.pk, "title": production.title},
        },
        "agreement": consent.agreement.code,
        "consent": {
            "id": consent.pk,
            "kind": consent.kind,
            "description": consent.description,
            "scenes": consent.scenes,
            "media": consent.media,
            "territory": consent.territory,
            "term": {"from": _iso(consent.term_from), "to": _iso(consent.term_to)},
            "instrument": consent.instrument,
            "signed_by": consent.signed_by,
            "signed_by_capacity": consent.signed_by_capacity,
            "represented_by": consent.represented_by,
            "signed_at": _iso(consent.signed_at),
            "recorded_at": _iso(consent.created_at),
            "notice_at": _iso(consent.notice_at),
            "engaged_at": _iso(consent.engaged_at),
            "business_reason": consent.business_reason,
            "bargained": bargained,
            "named_in_disclosure": consent.named_in_disclosure,
            "supersedes": consent.supersedes_id,
            **_state_law(consent),
        },
        "consent_event": None
        if event is None
        else {
            "id": event.pk,
            "kind": event.kind,
            "effective_at": _iso(event.effective_at),
            "reason": event.reason,
            "recorded_at": _iso(event.recorded_at),
        },
        "evidence": {
            "name": consent.evidence_name,
            "sha256": consent.evidence_sha256,
            "size": consent.evidence_size,
        },
        "status": _status(consent, events, status_at),
        "status_as_of": _iso(status_at),
        "ledger_chain_position": chain_position(recorded_at),
    }
    digest = hashlib.sha256(canonical_json(body).encode()).hexdigest()
    return {**body, "receipt_sha256": digest}


def receipts_for(consent: Consent) -> list[dict]:
    """The grant's receipt, then one per event in the order they take effect."""
    events = consent.events.order_by("effective_at", "id")
    return [receipt(consent), *(receipt(consent, event) for event in events)]


def json_bytes(receipt: dict) -> bytes:
    return canonical_json(receipt).encode()


def verify(receipt: dict) -> bool:
    """Whether a receipt still hashes to its `receipt_sha256`."""
    body = {k: v for k, v in receipt.items() if k != "receipt_sha256"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest() == receipt.get(
        "receipt_sha256"
    )


HEADLINES = {
    "granted": "You granted this consent",
    "revoked": "This consent was revoked",
    "suspended": "This consent was suspended",
    "resumed": "This consent was resumed",
}


REPRESENTATION = {
    "none": "no one (neither counsel nor a union)",
    "counsel": "counsel, who negotiated the consent",
    "union": "the union, whose agreement covers digital replicas",
}


def _words(value: str) -> str:
    return value.replace("_", " ")


def context(receipt: dict) -> dict:
    """What the e-mail and the PDF show, in words."""
    c = receipt["consent"]
    term = f"{c['term']['from']} to {c['term']['to'] or 'no end date'}"
    bargained = c["bargained"]
    state_law = c.get("state_law")
    return {
        "r": receipt,
        "state_law": state_law,
        "representation": REPRESENTATION[c["represented_by"]],
        "headline": HEADLINES[receipt["event"]],
        "kind": _words(c["kind"]),
        "term": term,
        "instrument": _words(c["instrument"]),
        "capacity": _words(c["signed_by_capacity"]),
        "bargained": (
            money_display(Decimal(bargained["amount"]), bargained["currency"]) if bargained else ""
        ),
    }


def summary_text(receipt: dict) -> str:
    """The plain-text body of the e-mail that carries the receipt."""
    ctx = context(receipt)
    c, p = receipt["consent"], receipt["pii_principal"]
    controller = receipt["controller"]
    lines = [
        f"Consent receipt {receipt['record_id']}",
        "",
        f"{ctx['headline']}: {ctx['kind']} consent of {p['name']} ({_words(p['category'])}).",
        f"Production: {controller['production']['title']} ({controller['studio']}), "
        f"agreement {receipt['agreement']}.",
        f"Described use: {c['description']}",
        f"Term: {ctx['term']}.",
        f"Signed by {c['signed_by']} ({ctx['capacity']}) on {instant(c['signed_at'])}, "
        f"by {ctx['instrument']}.",
    ]
    lines.append(f"Represented by {ctx['representation']}.")
    if state_law := ctx["state_law"]:
        lines += _state_law_lines(state_law)
    if ctx["bargained"]:
        lines.append(f"Bargained amount: {ctx['bargained']}.")
    if event := receipt["consent_event"]:
        lines += [
            f"{event['kind'].capitalize()} with effect from {instant(event['effective_at'])}, "
            f"recorded {instant(event['recorded_at'])}.",
            f"Reason: {event['reason']}",
        ]
    position = receipt["ledger_chain_position"]
    evidence = receipt["evidence"]
    lines += [
        f"Status as of {instant(receipt['status_as_of'])}: {receipt['status']}.",
        "",
        f"Evidence: {evidence['name']}, {evidence['size']} bytes, SHA-256 {evidence['sha256']}",
        f"Ledger chain position: #{position['seq']} {position['hash']}",
        f"Receipt SHA-256: {receipt['receipt_sha256']}",
        "",
        "The receipt is attached as PDF and as JSON; keep them with your records.",
    ]
    return "\n".join(lines)


def _state_law_lines(state_law: dict) -> list[str]:
    yes_no = {True: "yes", False: "no"}
    return [
        f"Governing law: {state_law['governing_law'] or 'none stated'}.",
        f"Performance fixed on: {state_law['performance_fixed_on'] or 'not recorded'}.",
        f"The replica may replace in-person work: {yes_no[state_law['replaces_in_person_work']]}.",
        f"Replica terms initialed: {yes_no[state_law['terms_initialed']]}.",
    ]


def html(receipt: dict) -> str:
    return render_to_string("reports/receipt.html", context(receipt))


def pdf(receipt: dict) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs a second

    return HTML(string=html(receipt)).write_pdf()
