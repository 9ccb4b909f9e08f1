"""Who may see and change what — the real-world tenancy, in one place.

- Studio staff see and change their own studios' data.
- Guild staff see the productions, engagements and people under their guild's agreements (and
  their guild's members); they change nothing in the registry.
- A payroll key sees its studios' data, and only through the endpoints its scopes name.
- Superusers see everything.

Outside a caller's scope an object is simply absent: lists leave it out and detail views answer
404, never 403, so that existence does not leak. Every API view, admin page and export scopes its
queryset through the functions here.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.api import scopes as api_scopes
from ledger.models import (
    Engagement,
    GuildStaff,
    Membership,
    PayrollKey,
    Person,
    Production,
    ProductionAgreement,
    Studio,
    StudioStaff,
)


@dataclass(frozen=True)
class Scope:
    superuser: bool = False
    studio_ids: frozenset[int] = field(default_factory=frozenset)
    guild_ids: frozenset[int] = field(default_factory=frozenset)
    payroll_key: PayrollKey | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.superuser or self.studio_ids or self.guild_ids)

    def can_write_studio(self, studio_id: int | None) -> bool:
        if self.payroll_key is not None:
            return False
        return self.superuser or studio_id in self.studio_ids

    def can_write_guild(self, guild_id: int | None) -> bool:
        """Guild staff write their guild's own records (its strikes); administrators any."""
        if self.payroll_key is not None:
            return False
        return self.superuser or guild_id in self.guild_ids

    @property
    def can_write_any_guild(self) -> bool:
        return self.payroll_key is None and (self.superuser or bool(self.guild_ids))

    @property
    def can_write_any(self) -> bool:
        return self.payroll_key is None and (self.superuser or bool(self.studio_ids))


# The scope of the system's own writes (the demo data, commands): an administrator's.
SYSTEM_SCOPE = Scope(superuser=True)


def scope_for(user: Any, auth: Any = None) -> Scope:
    """The scope of a request's user, or of the payroll key that authenticated it."""
    if isinstance(auth, PayrollKey):
        return Scope(
            studio_ids=frozenset(auth.studios.values_list("id", flat=True)), payroll_key=auth
        )
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(superuser=True)
    return Scope(
        studio_ids=frozenset(
            StudioStaff.objects.filter(user=user).values_list("studio_id", flat=True)
        ),
        guild_ids=frozenset(
            GuildStaff.objects.filter(user=user).values_list("guild_id", flat=True)
        ),
    )


def request_scope(request: Any) -> Scope:
    """The caller's scope, computed once per request. Every view, admin page and form asks this
    directly."""
    cached: Scope | None = getattr(request, "_guild_ledger_scope", None)
    if cached is None:
        cached = scope_for(request.user, getattr(request, "auth", None))
        request._guild_ledger_scope = cached
    return cached


def productions(scope: Scope, qs: QuerySet | None = None) -> QuerySet:
    qs = Production.objects.all() if qs is None else qs
    if scope.superuser:
        return qs
    attached = ProductionAgreement.objects.filter(
        production_id=OuterRef("pk"), agreement__guild_id__in=scope.guild_ids
    )
    return qs.filter(Q(studio_id__in=scope.studio_ids) | Q(Exists(attached)))


def writable_productions(scope: Scope, qs: QuerySet | None = None) -> QuerySet:
    """The productions the caller may record against: its studios' productions (every one for a
    superuser; none for a payroll key, which writes payments only). The one spelling of
    "writable productions": choice lists, imports and checks all use it."""
    qs = Production.objects.all() if qs is None else qs
    if scope.payroll_key is not None:
        return qs.none()
    return qs if scope.superuser else qs.filter(studio_id__in=scope.studio_ids)


def writable_studios(scope: Scope, qs: QuerySet | None = None) -> QuerySet:
    """The studios the caller acts for: its own (every one for a superuser; none for a payroll
    key). A production is created in one of them, a person registered by one."""
    qs = Studio.objects.all() if qs is None else qs
    if scope.payroll_key is not None:
        return qs.none()
    return qs if scope.superuser else qs.filter(id__in=scope.studio_ids)


def on_writable_productions(scope: Scope, qs: QuerySet, via: str = "production") -> QuerySet:
    """Rows of `qs` that belong to a writable production (writable_productions), `via` naming the
    path from a row to its production ("production", "engagement__production", ...)."""
    if scope.payroll_key is not None:
        return qs.none()
    if scope.superuser:
        return qs
    return qs.filter(**{f"{via}__studio_id__in": scope.studio_ids})


def studios(scope: Scope, qs: QuerySet | None = None) -> QuerySet:
    qs = Studio.objects.all() if qs is None else qs
    if scope.superuser:
        return qs
    guild_studios = ProductionAgreement.objects.filter(
        production__studio_id=OuterRef("pk"), agreement__guild_id__in=scope.guild_ids
    )
    return qs.filter(Q(id__in=scope.studio_ids) | Q(Exists(guild_studios)))


def engagements(scope: Scope, qs: QuerySet | None = None) -> QuerySet:
    qs = Engagement.objects.all() if qs is None else qs
    if scope.superuser:
        return qs
    return qs.filter(
        Q(production__studio_id__in=scope.studio_ids) | Q(agreement__guild_id__in=scope.guild_ids)
    )


def people(scope: Scope, qs: QuerySet | None = None) -> QuerySet:
    qs = Person.objects.all() if qs is None else qs
    if scope.superuser:
        return qs
    engaged = Engagement.objects.filter(person_id=OuterRef("pk")).filter(
        Q(production__studio_id__in=scope.studio_ids) | Q(agreement__guild_id__in=scope.guild_ids)
    )
    member = Membership.objects.filter(person_id=OuterRef("pk"), guild_id__in=scope.guild_ids)
    registered = Q(registered_by_id__in=scope.studio_ids)
    if scope.payroll_key is not None:
        registered = Q(pk__in=[])  # payroll sees people only through engagements
    return qs.filter(registered | Q(Exists(engaged)) | Q(Exists(member)))


def person_writable(scope: Scope, person: Person) -> bool:
    """Studio staff may change the people their studio registered or engages."""
    if scope.payroll_key is not None:
        return False
    if scope.superuser:
        return True
    if person.registered_by_id in scope.studio_ids:
        return True
    return person.engagements.filter(production__studio_id__in=scope.studio_ids).exists()


class ScopeMissing(exceptions.PermissionDenied):
    """403 `scope_missing`: a payroll key reached an endpoint its scopes do not cover. (A DRF
    exception, not a DomainError: DRF imports this module while core.errors is loading.)"""

    stable_code = "scope_missing"

    def __init__(self, scope_name: str):
        super().__init__(f"This API key lacks the scope {scope_name}.")
        self.scope_name = scope_name


class ScopedAccess(BasePermission):
    """Authenticated callers with some scope; writes only for callers who can write somewhere.
    A payroll key also needs the API-key scope the view names for the method (core.api.scopes):
    a view that names none is closed to payroll keys.

    Object-level checks are done by scoping querysets (absent means 404), and by the services,
    which check the concrete studio of what is written.
    """

    message = "This caller can read the registry but not change it."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated) and request.auth is None:
            return False
        scope = request_scope(request)
        if scope.payroll_key is not None:
            return self._payroll_key_may(scope.payroll_key, view, request.method)
        if request.method in SAFE_METHODS:
            return True
        return scope.can_write_any

    def _payroll_key_may(self, key: PayrollKey, view, method: str) -> bool:
        needed = api_scopes.required_scope(view, method)
        if needed is None:
            return False
        if not key.has_scope(needed):
            raise ScopeMissing(needed)
        return True


class StaffOnly(ScopedAccess):
    """Records for studio and guild staff; payroll keys read payables and write payments only."""

    message = "Payroll keys read payables and payments only."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request_scope(request).payroll_key is None


class StaffWrites(StaffOnly):
    """Reads as StaffOnly; a write by any staff caller with some scope (studio or guild staff)
    reaches the view, and its service decides what that caller may write (a strike: its guild's
    own staff, consent.services). Payroll keys and callers with no scope write nothing."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return super().has_permission(request, view)
        if not (request.user and request.user.is_authenticated):
            return False
        scope = request_scope(request)
        return scope.payroll_key is None and not scope.is_empty


class ReadForAnyStaff(BasePermission):
    """For computations that write nothing (the consent check): any staff caller may ask."""

    def has_permission(self, request, view):
        scope = request_scope(request)
        return not scope.is_empty and scope.payroll_key is None
