"""Who sees which reports: guild staff their guild's reports, studio staff the reports of their
studios and of their productions; payroll keys none. Flags for follow-up: guild staff see their
guild's, studio staff those about their studios' productions."""

from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from django.db.models import Q, QuerySet

from ledger.access import Scope
from ledger.models import Guild, Production, Studio

from .models import SUBJECT_PRODUCTION, Flag, Report, ScopeKind

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Subject(TypedDict):
        subject_production_id: Any  # Any: the stubs type its lookups (`__in`) as the value

    # A flag with `subject_production_id` annotated (flags()).
    SubjectFlag = WithAnnotations[Flag, _Subject]


class ReportTarget(Protocol):
    """What a report covers, as may_run reads it (reports.compliance.Target)."""

    @property
    def kind(self) -> str: ...

    def the_guild(self) -> Guild: ...

    def the_studio(self) -> Studio: ...


def reports(scope: Scope, qs: QuerySet[Report] | None = None) -> QuerySet[Report]:
    qs = (Report.objects.all() if qs is None else qs).select_related(
        "production", "studio", "guild"
    )
    if scope.superuser:
        return qs
    if scope.payroll_key is not None:
        return qs.none()
    return qs.filter(
        Q(scope_kind__in=[ScopeKind.PRODUCTION, ScopeKind.STUDIO], studio_id__in=scope.studio_ids)
        | Q(scope_kind=ScopeKind.GUILD, guild_id__in=scope.guild_ids)
    )


def may_run(scope: Scope, target: ReportTarget) -> bool:
    """Studio staff run their studios' and productions' reports; guild staff their guild's."""
    if scope.payroll_key is not None:
        return False
    if scope.superuser:
        return True
    if target.kind == ScopeKind.GUILD:
        return target.the_guild().pk in scope.guild_ids
    return target.the_studio().pk in scope.studio_ids


def flags(scope: Scope, qs: QuerySet[Flag] | None = None) -> "QuerySet[SubjectFlag]":
    """Flags in the caller's scope, each with `subject_production_id`: the production it is
    about, whatever its target."""
    qs = (Flag.objects.all() if qs is None else qs).annotate(
        subject_production_id=SUBJECT_PRODUCTION
    )
    if scope.superuser:
        return qs
    if scope.payroll_key is not None:
        return qs.none()
    studio_productions = Production.objects.filter(studio_id__in=scope.studio_ids).values("pk")
    return qs.filter(
        Q(guild_id__in=scope.guild_ids) | Q(subject_production_id__in=studio_productions)
    )


def open_flags(scope: Scope, qs: QuerySet[Flag] | None = None) -> "QuerySet[SubjectFlag]":
    return flags(scope, qs).filter(resolved_at__isnull=True)
