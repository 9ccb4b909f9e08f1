"""The map of where personal data about a person lives, and how an erasure treats each place.

A `Holding` is a table that holds something about a person, with the lookup from its rows to the
person (`path`), the columns an erasure replaces outright (`replace`: names, e-mail addresses,
references, the evidence file) and the free-text or JSON columns in which it replaces the
person's identifying values wherever they occur (`scrub`). A holding without a path is a table
about many people at once (stored reports, notices, the admin's log): its rows are found by
searching for the person's values.

Every audited model's history table is treated like the model itself. What is not on this map is
still found afterwards: the erasure scans every text column of every table (`privacy.scan`) and
records whatever it could not change.

The person's identifying values (`terms`) are every name, e-mail address, payroll reference,
representative, member number and signer's name they were ever recorded with, history included.
Values shorter than `MIN_TERM` characters are replaced where they are a column's whole value but
not searched for inside text, where they would match unrelated words.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import LogEntry
from django.db.models import Model, Q

from compensation.models import CompensationLine, HoldResolution
from consent.models import (
    AiUse,
    AiUseVoid,
    Consent,
    ConsentEvent,
    ConsentRequest,
    ConsentSignature,
    UnionNotice,
    WgaDisclosure,
)
from ledger.models import Engagement, Membership, Payable, Person
from reports.models import Flag, ReceiptDelivery, Report

MIN_TERM = 3
ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: never delivers

# How a replaced column's new value is made from the pseudonym and the row's id.
TOKEN, BLANK, TOKEN_PER_ROW, ERASED, ERASED_EMAIL = (
    "token",
    "blank",
    "token_per_row",
    "erased",
    "erased_email",
)


@dataclass(frozen=True)
class Holding:
    model: type[Model]
    path: str | None
    replace: dict[str, str] = field(default_factory=dict)
    scrub: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def history_model(self) -> type[Model] | None:
        attribute = getattr(self.model._meta, "simple_history_manager_attribute", None)
        return getattr(self.model, attribute).model if attribute else None


HOLDINGS = (
    Holding(
        Person,
        "id",
        replace={
            "legal_name": TOKEN,
            "professional_name": BLANK,
            "email": BLANK,
            "payroll_ref": BLANK,
            "authorized_representative": BLANK,
            "representative_email": BLANK,
        },
    ),
    Holding(Membership, "person_id", replace={"member_number": TOKEN_PER_ROW}),
    Holding(Engagement, "person_id", scrub=("role",)),
    Holding(
        Consent,
        "person_id",
        replace={"signed_by": TOKEN, "evidence": BLANK, "evidence_name": ERASED},
        scrub=("description", "scenes", "media", "territory", "business_reason"),
    ),
    Holding(ConsentEvent, "consent__person_id", scrub=("reason",)),
    Holding(
        ConsentRequest,
        "person_id",
        replace={"sent_to": ERASED_EMAIL},
        scrub=("description", "scenes", "media", "territory", "business_reason", "decline_reason"),
    ),
    Holding(
        ConsentSignature,
        "request__person_id",
        # What was shown goes whole; its SHA-256 stays, as an erased evidence document's does.
        replace={"signed_name": TOKEN, "shown_json": BLANK},
    ),
    Holding(AiUse, "person_id", scrub=("description", "scenes", "reasons")),
    Holding(AiUseVoid, "use__person_id", scrub=("reason",)),
    Holding(WgaDisclosure, "writer_id", scrub=("material",)),
    Holding(CompensationLine, "engagement__person_id", scrub=("description",)),
    Holding(HoldResolution, "ai_use__person_id", scrub=("reason",)),
    Holding(Payable, "person_id", scrub=("description",)),
    Holding(ReceiptDelivery, "consent__person_id", replace={"email": ERASED_EMAIL}),
    Holding(UnionNotice, None, scrub=("description", "recipient")),
    Holding(Report, None, scrub=("content",)),
    Holding(Flag, None, scrub=("note", "resolution_note")),
    Holding(LogEntry, None, scrub=("object_repr", "change_message")),
)

# Simple-history keeps why a change was made; staff may have written the person's name there.
HISTORY_SCRUB = ("history_change_reason",)


def replacement(kind: str, *, token: str, row_id: object) -> str:
    return {
        TOKEN: token,
        BLANK: "",
        TOKEN_PER_ROW: f"{token}-{row_id}",
        ERASED: "erased",
        ERASED_EMAIL: f"{token}@{ERASED_EMAIL_DOMAIN}",
    }[kind]


def terms_of(person: Person) -> list[str]:
    """Every identifying value the person was ever recorded with, longest first."""
    values = set()
    person_history = Person.history.filter(id=person.pk)
    for row in [person, *person_history]:
        values |= {
            row.legal_name,
            row.professional_name,
            row.email,
            row.payroll_ref,
            row.authorized_representative,
            row.representative_email,
        }
    for memberships in (person.memberships, Membership.history.filter(person_id=person.pk)):
        values |= set(memberships.values_list("member_number", flat=True))
    values |= set(Consent.objects.filter(person=person).values_list("signed_by", flat=True))
    return sorted({v.strip() for v in values if v and v.strip()}, key=lambda v: (-len(v), v))


class Scrubber:
    """Replaces the person's values inside text, as whole words, case-insensitively."""

    def __init__(self, terms: list[str], token: str) -> None:
        searchable = [t for t in terms if len(t) >= MIN_TERM]
        self.terms = searchable
        self.token = token
        self.pattern = (
            re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(t) for t in searchable) + r")(?!\w)",
                re.IGNORECASE,
            )
            if searchable
            else None
        )

    def __call__(self, value: Any) -> Any:
        if self.pattern is None or value is None:
            return value
        if isinstance(value, str):
            return self.pattern.sub(self.token, value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return value

    def found_in(self, columns: Iterable[str]) -> Q:
        """Rows where any of `columns` may hold one of the values (confirmed by `__call__`)."""
        q = Q(pk__in=[])
        for column in columns:
            for term in self.terms:
                q |= Q(**{f"{column}__icontains": term})
        return q
