"""Who did what: the acting user behind every history row, and querysets that cannot skip history.

History is written by django-simple-history from each `save()`. Anything that writes rows without
`save()` (`QuerySet.update()`, plain `bulk_create`/`bulk_update`) would leave no trace, so audited
querysets refuse them; `audited_bulk_create` and `audited_bulk_update` are the sanctioned bulk paths
and write a history row for every object.

The acting user is, in order: the user set on the instance (`_history_user`), the authenticated
user of the current request (staff in the admin, the API key's owner over REST), or the user of an
`acting_as()` block (commands and tasks act as the named system user).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

_actor: ContextVar = ContextVar("guild_ledger_actor", default=None)
M = TypeVar("M", bound=models.Model)
_bulk_with_history: ContextVar[bool] = ContextVar("guild_ledger_bulk_with_history", default=False)


class HistoryBypassError(RuntimeError):
    """A write that would change audited rows without recording history."""


class AuditedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if _bulk_with_history.get():  # bulk_update() writes through update()
            return super().update(**kwargs)
        raise HistoryBypassError(
            f"{self.model.__name__}: QuerySet.update() writes no history; save each object "
            "through its service instead."
        )

    def bulk_update(self, objs, fields, batch_size=None):
        if _bulk_with_history.get():
            return super().bulk_update(objs, fields, batch_size=batch_size)
        raise HistoryBypassError(
            f"{self.model.__name__}: bulk_update() writes no history; save each object instead."
        )

    def bulk_create(self, objs, *args, **kwargs):
        if not _bulk_with_history.get():
            raise HistoryBypassError(
                f"{self.model.__name__}: bulk_create() writes no history; "
                "use audited_bulk_create()."
            )
        return super().bulk_create(objs, *args, **kwargs)


AuditedManager = models.Manager.from_queryset(AuditedQuerySet)


def audited_bulk_create(model, objs, *, actor=None, batch_size=500):
    """Bulk-insert `objs` and one history row for each, attributed to `actor`."""
    token = _bulk_with_history.set(True)
    try:
        return bulk_create_with_history(
            objs, model, batch_size=batch_size, default_user=actor or current_actor()
        )
    finally:
        _bulk_with_history.reset(token)


def audited_bulk_update(model, objs, fields, *, actor=None, batch_size=500) -> int:
    """Bulk-update `fields` of `objs` and write one history row for each, attributed to `actor`."""
    token = _bulk_with_history.set(True)
    try:
        return bulk_update_with_history(
            objs, model, fields, batch_size=batch_size, default_user=actor or current_actor()
        )
    finally:
        _bulk_with_history.reset(token)


def save_audited(obj: M, *, actor: Any) -> M:
    """Validate `obj` (full_clean) and save it with `actor` as the acting user of its history row;
    an existing row whose stored fields already hold these values is not saved again, so that a
    save that changes nothing writes no history. The one save of every service."""
    obj.full_clean()
    if not obj._state.adding and obj.pk is not None and not _changed(obj):
        return obj
    obj._history_user = actor  # type: ignore[attr-defined]
    obj.save()
    return obj


def delete_audited(obj: models.Model, *, actor: Any) -> None:
    """Delete `obj` with `actor` as the acting user of its history row (the one delete of every
    service)."""
    obj._history_user = actor  # type: ignore[attr-defined]
    obj.delete()


def _changed(obj: models.Model) -> bool:
    fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
    stored = type(obj)._default_manager.filter(pk=obj.pk).values(*(f.attname for f in fields))
    row = stored.first()
    if row is None:
        return True
    return any(f.to_python(getattr(obj, f.attname)) != row[f.attname] for f in fields)


def current_actor() -> Any:
    return _actor.get()


@contextmanager
def acting_as(user: Any) -> Iterator[Any]:
    """Attribute every history row written inside the block to `user`."""
    token = _actor.set(user)
    try:
        yield user
    finally:
        _actor.reset(token)


def system_user() -> Any:
    """The named user that commands and tasks act as; created on first use."""
    user, created = get_user_model().objects.get_or_create(
        username=settings.SYSTEM_USERNAME,
        defaults={"first_name": "Guild Ledger", "last_name": "system", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _history_user(request=None, **kwargs):
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user
    return current_actor()


def history(**kwargs):
    """HistoricalRecords configured the same way for every audited model."""
    kwargs.setdefault("get_user", _history_user)
    return HistoricalRecords(**kwargs)
