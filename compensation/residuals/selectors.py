"""Residual records as each caller may see them, with the scope rules of compensation
(compensation.selectors): studio staff see their productions' schedules-in-use, exhibitions,
credits, runs and lines; guild staff those under their guild's agreements; payroll keys read
residual payables through the ledger, not these. Residual schedules are a guild's published
figures: every staff caller reads them."""

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from compensation.models import (
    CompensationRun,
    Exhibition,
    ResidualLine,
    ResidualSchedule,
    WritingCredit,
)
from compensation.selectors import _of_engagements, _scoped
from ledger.access import Scope
from ledger.models import Agreement, Production


def schedules(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    qs = (ResidualSchedule.objects.all() if qs is None else qs).select_related(
        "agreement", "loaded_by"
    )
    return qs.none() if scope.payroll_key is not None or scope.is_empty else qs


def schedule_in_force(agreement: Agreement, on: date) -> ResidualSchedule | None:
    """The agreement's schedule in force on `on`: the latest `effective_from` on or before it,
    the last loaded among equals."""
    return (
        ResidualSchedule.objects.filter(agreement=agreement, effective_from__lte=on)
        .order_by("-effective_from", "-id")
        .first()
    )


def _of_productions(scope: Scope, qs: QuerySet[Any], production: str) -> QuerySet[Any]:
    """A production's record, seen by its studio and by the guilds with an agreement on it."""
    if scope.superuser:
        return qs
    if scope.payroll_key is not None:
        return qs.none()
    guild_productions = Production.objects.filter(agreements__guild_id__in=scope.guild_ids)
    return qs.filter(
        Q(**{f"{production}__studio_id__in": scope.studio_ids})
        | Q(**{f"{production}__in": guild_productions})
    )


def exhibitions(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    qs = (Exhibition.objects.all() if qs is None else qs).select_related("production")
    return _of_productions(scope, qs, "production")


def credits(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    return _of_engagements(scope, WritingCredit.objects.all() if qs is None else qs)


def runs(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    qs = (CompensationRun.objects.all() if qs is None else qs).filter(
        kind=CompensationRun.Kind.RESIDUALS
    )
    return _of_productions(scope, qs.select_related("production"), "production")


def lines(scope: Scope, qs: QuerySet[Any] | None = None) -> QuerySet[Any]:
    """A person's line is seen by the studio and the engagement's guild; a fund's line with no
    member (the SAG-AFTRA success-bonus share) by the studio and the guilds of the production."""
    qs = (ResidualLine.objects.all() if qs is None else qs).select_related(
        "engagement__person", "run", "exhibition"
    )
    if scope.superuser or scope.payroll_key is not None:
        return _scoped(scope, qs, "run__production__studio_id", "engagement__agreement__guild_id")
    guild_productions = Production.objects.filter(agreements__guild_id__in=scope.guild_ids)
    return qs.filter(
        Q(run__production__studio_id__in=scope.studio_ids)
        | Q(engagement__agreement__guild_id__in=scope.guild_ids)
        | Q(engagement__isnull=True, run__production__in=guild_productions)
    )
