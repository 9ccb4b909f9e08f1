"""Use cases that write the registry. Each is atomic, validates before it writes (model
`full_clean()` plus the database constraints) and records the acting user in history."""

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from core.audit import delete_audited, save_audited
from core.errors import Conflict, DomainError
from ledger.models import (
    Agreement,
    Engagement,
    Guild,
    GuildStaff,
    Membership,
    Person,
    Production,
    ProductionAgreement,
    Studio,
    StudioStaff,
)
from ledger.registry.catalogue import in_force

# Fixed after creation, in the API (`fixed_after_create`), the admin (read-only) and here.
PRODUCTION_FIXED = ("studio",)
ENGAGEMENT_FIXED = ("person", "production")


def _assign(obj: models.Model, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(obj, name, value)


def _refuse_fixed(obj: models.Model, fields: dict[str, Any], fixed: tuple[str, ...]) -> None:
    """Fields fixed when the record was made may be repeated, not changed: a production stays
    with its studio, an engagement with its person and production (payables name them)."""
    changed = {
        name: "Fixed when the record was made: an update may repeat it, not change it."
        for name in fixed
        if name in fields
        and getattr(fields[name], "pk", fields[name]) != getattr(obj, f"{name}_id")
    }
    if changed:
        raise DomainError(
            f"{', '.join(changed)} cannot change once the record is made.",
            code="fixed_after_create",
            fields=changed,
        )
    for name in fixed:
        fields.pop(name, None)


@transaction.atomic
def studio_create(*, actor: Any, name: str, slug: str) -> Studio:
    return save_audited(Studio(name=name, slug=slug), actor=actor)


@transaction.atomic
def studio_update(*, actor: Any, studio: Studio, **fields: Any) -> Studio:
    _assign(studio, fields)
    return save_audited(studio, actor=actor)


def _set_memberships(person: Person, memberships: list[dict[str, Any]], *, actor: Any) -> None:
    """Make the person's guild memberships exactly `memberships` ([{guild, member_number}])."""
    wanted = {m["guild"].pk: m["member_number"] for m in memberships}
    for existing in person.memberships.select_for_update().order_by("pk"):
        if existing.guild_id not in wanted:
            delete_audited(existing, actor=actor)
        elif existing.member_number != wanted[existing.guild_id]:
            existing.member_number = wanted.pop(existing.guild_id)
            save_audited(existing, actor=actor)
        else:
            wanted.pop(existing.guild_id)
    for guild_id, number in wanted.items():
        save_audited(
            Membership(person=person, guild=Guild.objects.get(pk=guild_id), member_number=number),
            actor=actor,
        )


@transaction.atomic
def person_create(
    *, actor: Any, memberships: list[dict[str, Any]] | None = None, **fields: Any
) -> Person:
    person = save_audited(Person(**fields), actor=actor)
    _set_memberships(person, memberships or [], actor=actor)
    return person


@transaction.atomic
def person_update(
    *,
    actor: Any,
    person: Person,
    memberships: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Person:
    person = Person.objects.select_for_update().get(pk=person.pk)
    _assign(person, fields)
    save_audited(person, actor=actor)
    if memberships is not None:
        _set_memberships(person, memberships, actor=actor)
    return person


@transaction.atomic
def production_create(*, actor: Any, **fields: Any) -> Production:
    return save_audited(Production(**fields), actor=actor)


@transaction.atomic
def production_update(*, actor: Any, production: Production, **fields: Any) -> Production:
    production = Production.objects.select_for_update().get(pk=production.pk)
    _refuse_fixed(production, fields, PRODUCTION_FIXED)
    _assign(production, fields)
    return save_audited(production, actor=actor)


@transaction.atomic
def production_attach(*, actor: Any, production: Production, agreement: Agreement) -> bool:
    """Attach `agreement` to `production`; attaching twice is a no-op. True if it attached."""
    Production.objects.select_for_update().get(pk=production.pk)
    if ProductionAgreement.objects.filter(production=production, agreement=agreement).exists():
        return False
    save_audited(ProductionAgreement(production=production, agreement=agreement), actor=actor)
    return True


@dataclass(frozen=True)
class AttachWarning:
    """Something staff should know about an attachment that is still made."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def production_attach_warnings(
    *, production: Production, agreement: Agreement
) -> list[AttachWarning]:
    """Why attaching `agreement` to `production` is likely a mistake, if it is: the agreement is
    out of force for the whole of the production (RULES.md §1: the version that governs a piece of
    work is the one in force on its date). The attachment is still allowed, since a production's
    dates may be corrected later; the caller shows the warnings."""
    if agreement.in_force_during(production.start_date, production.end_date):
        return []
    if agreement.effective_to is not None and agreement.effective_to < production.start_date:
        when = (
            f"ended on {agreement.effective_to}, before {production} starts "
            f"({production.start_date})"
        )
    else:
        when = (
            f"starts on {agreement.effective_from}, after {production} ends ({production.end_date})"
        )
    governing = in_force(agreement.guild.code if agreement.guild else None, production.start_date)
    instead = (
        f" The {governing.guild} agreement in force on the start date is {governing.code}."
        if governing is not None and governing.code != agreement.code
        else ""
    )
    return [
        AttachWarning(
            code="agreement_not_in_force",
            message=f"{agreement.code} {when}: no work on the production falls under it.{instead}",
        )
    ]


@transaction.atomic
def production_detach(*, actor: Any, production: Production, agreement: Agreement) -> bool:
    """Detach `agreement`; refused while an engagement uses it. True if it detached."""
    Production.objects.select_for_update().get(pk=production.pk)
    attachment = ProductionAgreement.objects.filter(
        production=production, agreement=agreement
    ).first()
    if attachment is None:
        return False
    in_use = Engagement.objects.filter(production=production, agreement=agreement).count()
    if in_use:
        raise Conflict(
            f"{in_use} engagement(s) on this production are under {agreement.code}; "
            "end or move them before detaching it.",
            code="agreement_in_use",
        )
    delete_audited(attachment, actor=actor)
    return True


@transaction.atomic
def engagement_create(*, actor: Any, **fields: Any) -> Engagement:
    return save_audited(Engagement(**fields), actor=actor)


@transaction.atomic
def engagement_update(*, actor: Any, engagement: Engagement, **fields: Any) -> Engagement:
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    _refuse_fixed(engagement, fields, ENGAGEMENT_FIXED)
    _assign(engagement, fields)
    return save_audited(engagement, actor=actor)


# --- staff roles: who is studio or guild staff (administrators only, in the admin) ----------


@transaction.atomic
def studio_staff_create(*, actor: Any, **fields: Any) -> StudioStaff:
    return save_audited(StudioStaff(**fields), actor=actor)


@transaction.atomic
def studio_staff_update(*, actor: Any, role: StudioStaff, **fields: Any) -> StudioStaff:
    _assign(role, fields)
    return save_audited(role, actor=actor)


@transaction.atomic
def guild_staff_create(*, actor: Any, **fields: Any) -> GuildStaff:
    return save_audited(GuildStaff(**fields), actor=actor)


@transaction.atomic
def guild_staff_update(*, actor: Any, role: GuildStaff, **fields: Any) -> GuildStaff:
    _assign(role, fields)
    return save_audited(role, actor=actor)
