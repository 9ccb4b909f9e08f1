"""Notifications: each staff user is told of each of their open items (reports.open_items) once,
in the admin (/admin/notifications/) and, as they prefer, by e-mail at once, in a daily digest
(the default) or never.

- `notify(user, items, now=...)` is the one way a notification is made: for the open-item scan
  and for any event worth telling someone of. It skips the kinds the user muted and the items
  they were already told of (unique per user and item key), and marks when each is due to be
  e-mailed from the preference of the moment.
- The scan (`notify_open_items`, every five minutes from django-celery-beat) computes every
  staff user's open items in the scope their open-items page uses and notifies them.
- Sending (`notifications_send`) takes one user's due rows under a row lock, sends them in one
  message to the user's own recorded address and stamps them. A row due to be e-mailed is work
  waiting for the task queue (core/outbox.py): its send is published on commit when it is due at
  once, by the daily digest task when its digest comes, and by the outbox's sweep when it has
  waited past the grace period (a broker that was away, a mail server that refused).
"""

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse

from core import mail, outbox
from core.audit import audited_bulk_create, audited_bulk_update, save_audited
from core.errors import DomainError
from ledger.access import scope_for

from .models import Notification, NotificationPreference
from .open_items import TITLES, OpenItem, open_items
from .services import MAIL_ERRORS

logger = logging.getLogger(__name__)

# The send task (reports.tasks), published by name.
SEND_TASK = "reports.tasks.send_notifications"
# How many items of each group the scan reads: far more than the page shows, so that a user is
# told of everything but a backlog that no one could read in one message anyway.
SCAN_ITEMS = 200
# The sweep publishes a user's send again while their oldest due row has waited less than this;
# older rows (an address the mail server keeps refusing) are tried again by the daily digest.
WAITING_AT_MOST = timedelta(days=2)


# --- preferences ------------------------------------------------------------------------------


def preference_of(user: Any) -> NotificationPreference:
    """The user's preference, or the default one (daily digest, nothing muted), unsaved."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found if found is not None else NotificationPreference(user=user)


def preference_set(*, user: Any, email: str, muted: Iterable[str], actor: Any):
    """Set the user's preference: the e-mail frequency and the open-item groups to mute (keys of
    reports.open_items.TITLES). Refuses (DomainError naming the field) anything else."""
    if email not in NotificationPreference.Email.values:
        raise DomainError(
            "Choose how often to receive e-mail.",
            fields={"email": "One of: " + ", ".join(NotificationPreference.Email.values) + "."},
        )
    muted = list(muted)
    unknown = sorted({str(kind) for kind in muted} - set(TITLES))
    if unknown:
        raise DomainError(
            "Mute only groups of open items.",
            fields={"muted": "Not a group of open items: " + ", ".join(unknown) + "."},
        )
    with transaction.atomic():
        preference = NotificationPreference.objects.select_for_update().filter(
            user=user
        ).first() or NotificationPreference(user=user)
        preference.email = email
        preference.muted = [kind for kind in TITLES if kind in muted]
        return save_audited(preference, actor=actor)


def next_digest(now: datetime) -> datetime:
    """The first daily digest instant (NOTIFICATION_DIGEST_HOUR:00 UTC) after `now`."""
    at = now.astimezone(UTC).replace(
        hour=settings.NOTIFICATION_DIGEST_HOUR, minute=0, second=0, microsecond=0
    )
    return at if at > now else at + timedelta(days=1)


def _email_after(preference: NotificationPreference, user: Any, now: datetime) -> datetime | None:
    if not user.email or preference.email == NotificationPreference.Email.NEVER:
        return None
    if preference.email == NotificationPreference.Email.IMMEDIATELY:
        return now
    return next_digest(now)


# --- notify -----------------------------------------------------------------------------------


def notify(user: Any, items: Iterable[OpenItem], *, now: datetime) -> int:
    """Notify `user` of the items they have not been told of and did not mute; returns how many
    notifications were made. When one is due to be e-mailed now, the send is published once the
    transaction commits."""
    preference = preference_of(user)
    muted = set(preference.muted or [])
    wanted: dict[str, OpenItem] = {}
    for item in items:
        if item.kind not in muted:
            wanted.setdefault(item.key, item)
    if not wanted:
        return 0
    email_after = _email_after(preference, user, now)
    with transaction.atomic():
        # One scan at a time per user, so that an item is told once.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        told = set(
            Notification.objects.filter(user=user, key__in=list(wanted)).values_list(
                "key", flat=True
            )
        )
        rows = [
            Notification(
                user=user,
                kind=item.kind,
                key=key,
                text=item.text,
                url=item.url,
                created_at=now,
                email_after=email_after,
            )
            for key, item in wanted.items()
            if key not in told
        ]
        audited_bulk_create(Notification, rows)
        if rows and email_after is not None and email_after <= now:
            transaction.on_commit(_publisher(user.pk), robust=True)
    return len(rows)


def _publisher(user_id: int):
    """The on-commit callback that publishes the user's send (a function: Django names it in
    the log when it fails)."""

    def publish() -> None:
        outbox.publish(SEND_TASK, args=(user_id,))

    return publish


def staff_users() -> QuerySet[Any]:
    """Every active user who is staff of something: administrators, studio and guild staff."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(studio_roles__isnull=False) | Q(guild_roles__isnull=False))
        .distinct()
        .order_by("pk")
    )


def notify_open_items(*, now: datetime) -> dict[int, int]:
    """Notify every staff user of their new open items, in the scope their open-items page
    uses: {user id: notifications made}, for those told of something. A user whose items could
    not be computed is logged and skipped; the others are notified, and the error raised last."""
    made: dict[int, int] = {}
    failed: list[int] = []
    for user in staff_users():
        try:
            groups = open_items(scope_for(user), now=now, limit=SCAN_ITEMS)
            count = notify(user, [item for group in groups for item in group.items], now=now)
        except Exception:
            logger.exception("The open items of user #%s could not be notified", user.pk)
            failed.append(user.pk)
            continue
        if count:
            made[user.pk] = count
    if failed:
        raise RuntimeError(f"Open items not notified for users {failed}; the rest were.")
    return made


# --- sending ----------------------------------------------------------------------------------


def _due(now: datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(emailed_at__isnull=True, email_after__lte=now)


def _may_receive(user: Any) -> bool:
    """Still someone to e-mail: active, with an address, still staff of something."""
    return bool(user.email) and staff_users().filter(pk=user.pk).exists()


def notifications_send(*, user_id: int, now: datetime) -> int:
    """E-mail the user's due notifications in one message and stamp them; returns how many were
    sent. Idempotent: rows already sent, or locked by a send under way, are not sent again. A
    mail server error leaves them due (logged) for the next try. Rows of a user who may no longer
    receive mail (no address, no longer staff, e-mail turned off) are taken off the e-mail."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return 0
    with transaction.atomic():
        rows = list(
            _due(now)
            .filter(user=user)
            .select_for_update(skip_locked=True)
            .order_by("created_at", "id")
        )
        if not rows:
            return 0
        ids = [row.pk for row in rows]
        never = preference_of(user).email == NotificationPreference.Email.NEVER
        if never or not _may_receive(user):
            _stamp(rows, email_after=None)
            return 0
        try:
            _message(user, rows).send()
        except MAIL_ERRORS:
            logger.warning("Notifications %s to user #%s wait for the mail server", ids, user.pk)
            return 0
        _stamp(rows, emailed_at=now)
    return len(rows)


def _stamp(rows: list[Notification], *, actor: Any = None, **values: Any) -> None:
    for row in rows:
        for field, value in values.items():
            setattr(row, field, value)
    audited_bulk_update(Notification, rows, list(values), actor=actor)


def _message(user: Any, rows: list[Notification]):
    site = settings.SITE_URL
    count = len(rows)
    noun = "open item" if count == 1 else "open items"
    lines = [f"{count} {noun} for you in Guild Ledger:", ""]
    for row in rows:
        lines += [f"- {mail.header_text(row.text, max_length=500)}", f"  {site}{row.url}", ""]
    lines += [
        f"All your open items: {site}{reverse('open-items')}",
        f"Your notifications: {site}{reverse('notifications')}",
        f"How often you receive these e-mails: {site}{reverse('notification-preferences')}",
    ]
    return mail.message(
        subject=f"Guild Ledger: {count} {noun} for you", body="\n".join(lines), to=[user.email]
    )


def digests_publish(*, now: datetime) -> int:
    """Publish the send of every user with notifications due (the daily digest)."""
    users = _due(now).order_by("user_id").values_list("user_id", flat=True).distinct()
    return sum(outbox.publish(SEND_TASK, args=(user_id,)) for user_id in users)


def notifications_publish_waiting(cutoff: datetime) -> int:
    """The outbox's sweep: publish again the send of every user with notifications due before
    `cutoff` (and within WAITING_AT_MOST) not yet e-mailed."""
    users = (
        _due(cutoff)
        .filter(email_after__lt=cutoff, email_after__gte=cutoff - WAITING_AT_MOST)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
    return sum(outbox.publish(SEND_TASK, args=(user_id,)) for user_id in users)


# --- the admin --------------------------------------------------------------------------------


def notifications_mark_read(*, user: Any, now: datetime, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications read (only those in `ids` when given); returns how
    many. Another user's ids are ignored."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    rows = list(unread)
    _stamp(rows, actor=user, read_at=now)
    return len(rows)


def unread_count(user: Any, *, at_most: int) -> int:
    """How many notifications the user has not read, up to `at_most`: on every admin page, so it
    reads at most that many ids (an index scan) rather than counting them all."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True).order_by()
    return len(unread.values_list("pk", flat=True)[:at_most])
