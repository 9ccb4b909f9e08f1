"""Use cases that write the registry. Each is atomic, validates before it writes (model
`full_clean()` plus the database constraints) and records the acting user in history."""

from django.db import transaction

from core.errors import Conflict, DomainError
from ledger.models import (
    Agreement,
    Engagement,
    Guild,
    Membership,
    Person,
    Production,
    ProductionAgreement,
    Studio,
)

# Fixed after creation, in the API (`fixed_after_create`), the admin (read-only) and here.
PRODUCTION_FIXED = ("studio",)
ENGAGEMENT_FIXED = ("person", "production")


def _save(obj, *, actor):
    obj.full_clean()
    obj._history_user = actor
    obj.save()
    return obj


def _delete(obj, *, actor):
    obj._history_user = actor
    obj.delete()


def _assign(obj, fields: dict):
    for name, value in fields.items():
        setattr(obj, name, value)


def _refuse_fixed(obj, fields: dict, fixed: tuple[str, ...]):
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
def studio_create(*, actor, name: str, slug: str) -> Studio:
    return _save(Studio(name=name, slug=slug), actor=actor)


@transaction.atomic
def studio_update(*, actor, studio: Studio, **fields) -> Studio:
    _assign(studio, fields)
    return _save(studio, actor=actor)


def _set_memberships(person: Person, memberships: list[dict], *, actor):
    """Make the person's guild memberships exactly `memberships` ([{guild, member_number}])."""
    wanted = {m["guild"].pk: m["member_number"] for m in memberships}
    for existing in person.memberships.select_for_update().order_by("pk"):
        if existing.guild_id not in wanted:
            _delete(existing, actor=actor)
        elif existing.member_number != wanted[existing.guild_id]:
            existing.member_number = wanted.pop(existing.guild_id)
            _save(existing, actor=actor)
        else:
            wanted.pop(existing.guild_id)
    for guild_id, number in wanted.items():
        _save(
            Membership(person=person, guild=Guild.objects.get(pk=guild_id), member_number=number),
            actor=actor,
        )


@transaction.atomic
def person_create(*, actor, memberships: list[dict] | None = None, **fields) -> Person:
    person = _save(Person(**fields), actor=actor)
    _set_memberships(person, memberships or [], actor=actor)
    return person


@transaction.atomic
def person_update(*, actor, person: Person, memberships: list[dict] | None = None, **fields):
    person = Person.objects.select_for_update().get(pk=person.pk)
    _assign(person, fields)
    _save(person, actor=actor)
    if memberships is not None:
        _set_memberships(person, memberships, actor=actor)
    return person


@transaction.atomic
def production_create(*, actor, **fields) -> Production:
    return _save(Production(**fields), actor=actor)


@transaction.atomic
def production_update(*, actor, production: Production, **fields) -> Production:
    production = Production.objects.select_for_update().get(pk=production.pk)
    _refuse_fixed(production, fields, PRODUCTION_FIXED)
    _assign(production, fields)
    return _save(production, actor=actor)


@transaction.atomic
def production_attach(*, actor, production: Production, agreement: Agreement) -> bool:
    """Attach `agreement` to `production`; attaching twice is a no-op. True if it attached."""
    Production.objects.select_for_update().get(pk=production.pk)
    if ProductionAgreement.objects.filter(production=production, agreement=agreement).exists():
        return False
    _save(ProductionAgreement(production=production, agreement=agreement), actor=actor)
    return True


@transaction.atomic
def production_detach(*, actor, production: Production, agreement: Agreement) -> bool:
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
    _delete(attachment, actor=actor)
    return True


@transaction.atomic
def engagement_create(*, actor, **fields) -> Engagement:
    return _save(Engagement(**fields), actor=actor)


@transaction.atomic
def engagement_update(*, actor, engagement: Engagement, **fields) -> Engagement:
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    _refuse_fixed(engagement, fields, ENGAGEMENT_FIXED)
    _assign(engagement, fields)
    return _save(engagement, actor=actor)
