"""Export and erasure of a person's data (GDPR Art. 15, 17 and 20), as records teams do them.

**Export** (`person_export_take`): the document of `privacy.selectors.person_export`, with an
`ExportRecord` of who took it, when, and its SHA-256.

**Erasure** (`person_erase`) pseudonymizes rather than deletes: the person's row and every row
about them stay (payment records must be kept: tax and wage-record law, Art. 17(3)(b)), so
amounts, balances and the journal's hash chain are untouched; what identifies the person is
replaced by a random pseudonym (`erased-<12 hex>`, drawn once per erasure, so it cannot be
recomputed from the name) or cleared. Following `privacy.holdings`, one transaction:

1. locks the person; refuses a second erasure (`already_erased`), an erasure while a payable of
   the person still has an amount due (`payables_due`: pay it or reverse it first; the person
   could not be paid once their payroll reference is gone) and a reason that names the person;
2. takes the export, keeping only its SHA-256;
3. opens the erasure gate and replaces identifying columns, and the person's values inside free
   text and JSON, in live rows (saved through the ORM, so audited models get a history row by
   the acting user with the reason `erasure <id>`) and in every history row of those models;
   stored reports that name the person are rewritten and re-hashed, their hashes before and
   after kept on the record;
4. closes the gate, scans every text column of the database for what is left (`retained`), and
   writes the append-only `ErasureRecord`; the evidence files are deleted from storage once the
   transaction commits (their SHA-256 and size stay on the consent, so the consent's integrity
   stays provable by whoever holds the original document).

**The gate.** Consents, their events, the AI-use register, lines, payables, hold resolutions,
reports and receipt deliveries are append-only by database trigger. Privacy migration 0002
narrows those triggers: an UPDATE passes only while an `ErasureGate` row exists (inserted and
deleted inside the erasure's own transaction, so no other connection ever sees it) and, on
PostgreSQL, the transaction-local setting `guild_ledger.erasure` is `on`, and only when every
column that changes is one of that table's personal columns. DELETE and TRUNCATE stay refused.
On SQLite, a later migration that rebuilds one of those tables puts back the plain trigger
(`core.append_only.append_only_again`), which closes the gate for that table: erasure then
fails loudly rather than writing around it.

**Limits, said plainly.** A journal transaction's `description` is inside its hash: changing it
would break `verify_ledger`. Descriptions are written without names (compensation runs name the
rule, production and period); rows written before that practice, or a reversal whose reason
names someone, keep the name and are counted in `retained` (the rows stay reachable only
through the pseudonymized person). A report or receipt already e-mailed cannot be recalled.
A person's registry record can be edited after erasure; whoever does so records new data.

Every export and erasure, and every refused erasure, is also a security event
(`core.security.events`: `privacy.export`, `privacy.erase`; ids and codes only).
"""

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import Storage
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import Conflict, DomainError
from core.security.events import security_event
from ledger.journal.services import payable_amounts
from ledger.models import Payable, Person
from reports.models import Report

from . import scan, selectors
from .holdings import HISTORY_SCRUB, HOLDINGS, Holding, Scrubber, replacement, terms_of
from .models import ErasureGate, ErasureRecord, ExportRecord

logger = logging.getLogger(__name__)

REASON_MAX = 2000


@transaction.atomic
def person_export_take(*, person: Person, actor: Any) -> tuple[dict[str, Any], ExportRecord]:
    """The export of everything held about `person`, recorded as taken by `actor`."""
    export = selectors.person_export(person)
    record = ExportRecord.objects.create(
        person=person, actor=actor, exported_at=timezone.now(), sha256=selectors.digest(export)
    )
    _on_commit_event("privacy.export", actor, person, export=record.pk)
    return export, record


def person_erase(*, person: Person, actor: Any, reason: str) -> ErasureRecord:
    """Pseudonymize everything that identifies `person`; see the module docstring."""
    try:
        record = _erase(person=person, actor=actor, reason=reason)
    except DomainError as refusal:
        security_event(
            "privacy.erase",
            actor=actor,
            object=f"person:{person.pk}",
            outcome="denied",
            code=refusal.code,
        )
        raise
    return record


def _on_commit_event(action: str, actor: Any, person: Person, **fields: Any) -> None:
    transaction.on_commit(
        lambda: security_event(
            action, actor=actor, object=f"person:{person.pk}", outcome="success", **fields
        )
    )


@transaction.atomic
def _erase(*, person: Person, actor: Any, reason: str) -> ErasureRecord:
    reason = _valid_reason(reason)
    person = Person.objects.select_for_update().get(pk=person.pk)
    _check_erasable(person)
    terms = terms_of(person)
    scrubber = Scrubber(terms, token=f"erased-{secrets.token_hex(6)}")
    if scrubber.pattern is not None and scrubber.pattern.search(reason):
        raise DomainError(
            "The reason names the person; it is kept after the erasure, so leave names out.",
            code="reason_names_person",
            fields={"reason": "Must not contain the person's name, e-mail or references."},
        )
    export_sha256 = selectors.digest(selectors.person_export(person))
    record_id = uuid.uuid4()
    erasure = _Erasure(person, actor, scrubber, change_reason=f"erasure {record_id}")
    _open_gate(person)
    for holding in HOLDINGS:
        erasure.live(holding)
        erasure.history(holding)
    _close_gate()
    record = ErasureRecord.objects.create(
        id=record_id,
        person=person,
        actor=actor,
        erased_at=timezone.now(),
        reason=reason,
        pseudonym=scrubber.token,
        changed=erasure.changed,
        history_changed=erasure.history_changed,
        evidence_files_deleted=len(erasure.files),
        reports_rewritten=erasure.reports,
        retained=scan.occurrences(scrubber.terms),
        export_sha256=export_sha256,
    )
    files = list(erasure.files)
    transaction.on_commit(lambda: _delete_files(files))
    _on_commit_event("privacy.erase", actor, person, erasure=str(record.id))
    return record


def _valid_reason(given: object) -> str:
    reason = (given or "").strip() if isinstance(given, str) else ""
    if not reason:
        raise DomainError(
            "Give the reason for the erasure (the request and its legal basis).",
            fields={"reason": "Required."},
        )
    if len(reason) > REASON_MAX:
        raise DomainError(
            f"The reason is longer than {REASON_MAX} characters.",
            fields={"reason": f"At most {REASON_MAX} characters."},
        )
    return reason


def _check_erasable(person: Person) -> None:
    if ErasureRecord.objects.filter(person=person).exists():
        raise Conflict("This person's data has already been erased.", code="already_erased")
    payables = Payable.objects.filter(person=person).order_by("pk").values_list("pk", flat=True)
    due = [pk for pk in payables if payable_amounts(pk)["due"] > 0]
    if due:
        raise Conflict(
            "Money is still due to this person: pay or reverse the payables first, so that "
            "payroll can still identify whom it pays.",
            code="payables_due",
            fields={"payables": due},
        )


def _open_gate(person: Person) -> None:
    ErasureGate.objects.create(person=person, opened_at=timezone.now())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('guild_ledger.erasure', 'on', true)")


def _close_gate() -> None:
    ErasureGate.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('guild_ledger.erasure', 'off', true)")


def _delete_files(files: list[tuple[Storage, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("erased evidence file %s could not be deleted from storage", name)


class _Erasure:
    """The changes of one erasure, holding by holding, and what they amounted to."""

    def __init__(
        self, person: Person, actor: Any, scrubber: Scrubber, *, change_reason: str
    ) -> None:
        self.person, self.actor, self.scrub = person, actor, scrubber
        self.change_reason = change_reason
        self.changed: dict[str, dict[str, Any]] = {}
        self.history_changed: dict[str, dict[str, Any]] = {}
        self.files: list[tuple[Storage, str]] = []
        self.reports: list[dict[str, Any]] = []

    def _changes(self, holding: Holding, obj: Any, scrub_columns: Iterable[str]) -> dict[str, Any]:
        changes = {}
        for column, kind in holding.replace.items():
            new = replacement(kind, token=self.scrub.token, row_id=obj.id)
            if _stored(obj, column) != new:
                changes[column] = new
        for column in scrub_columns:
            old = _stored(obj, column)
            new = self.scrub(old)
            if new != old:
                changes[column] = new
        return changes

    def _rows(
        self, model: type[models.Model], holding: Holding, columns: Iterable[str]
    ) -> QuerySet[Any]:
        qs = model._base_manager.all()
        if holding.path is None:
            return qs.filter(self.scrub.found_in(columns))
        return qs.filter(**{holding.path: self.person.pk})

    def live(self, holding: Holding) -> None:
        rows = self._rows(holding.model, holding, holding.scrub).select_for_update(of=("self",))
        for obj in rows.order_by("pk"):
            changes = self._changes(holding, obj, holding.scrub)
            if changes:
                self._write(holding, obj, changes)
                _tally(self.changed, holding.label, changes)

    def history(self, holding: Holding) -> None:
        model = holding.history_model
        if model is None:
            return
        columns = (*holding.scrub, *HISTORY_SCRUB)
        for row in self._rows(model, holding, columns).order_by("pk"):
            changes = self._changes(holding, row, columns)
            if changes:
                model._base_manager.filter(pk=row.pk).update(**changes)
                _tally(self.history_changed, holding.label, changes)

    def _write(self, holding: Holding, obj: Any, changes: dict[str, Any]) -> None:
        if holding.model is Report:
            before = obj.sha256
            changes["sha256"] = hashlib.sha256(changes["content"].encode()).hexdigest()
            self.reports.append(
                {"report": obj.pk, "sha256_before": before, "sha256_after": changes["sha256"]}
            )
        if "evidence" in changes and obj.evidence.name:
            self.files.append((obj.evidence.storage, obj.evidence.name))
        if holding.history_model is None:
            holding.model._base_manager.filter(pk=obj.pk).update(**changes)
            return
        for column, value in changes.items():
            setattr(obj, column, value)
        obj._history_user = self.actor
        obj._change_reason = self.change_reason
        obj.save(update_fields=list(changes))


def _stored(obj: models.Model, column: str) -> Any:
    value = getattr(obj, column)
    return value.name if hasattr(value, "storage") else value


def _tally(summary: dict[str, dict[str, Any]], label: str, changes: dict[str, Any]) -> None:
    entry = summary.setdefault(label, {"rows": 0, "fields": []})
    entry["rows"] += 1
    entry["fields"] = sorted(set(entry["fields"]) | set(changes))
