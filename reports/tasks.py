"""The scheduled reports (django-celery-beat fires these; migration 0003 creates the schedules),
and the notifications of open items: the scan, the sends and the daily digest (migration 0007
creates their schedules; reports.notifications).

Each task works out its period from the day it runs (or the `on` it is given) and makes every
report in turn, each idempotent: a schedule that fires twice in the same week or month, or a
task run twice, stores and sends one report per scope and period. The reports are made inside
the one task, not fanned out, so that a schedule's work runs on whichever worker took it."""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from core.audit import acting_as, system_user
from ledger.models import Guild

from . import notifications, services
from .compliance import Target
from .models import Report

logger = logging.getLogger(__name__)


def previous_week(on: date) -> tuple[date, date]:
    """Monday to Sunday of the week before the one `on` falls in."""
    monday = on - timedelta(days=on.weekday() + 7)
    return monday, monday + timedelta(days=6)


def previous_month(on: date) -> tuple[date, date]:
    last = on.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _day(on: str | None) -> date:
    return date.fromisoformat(on) if on else timezone.now().date()


def _run_all(targets, period) -> list[int]:
    actor = system_user()
    done, failed = [], []
    with acting_as(actor):
        for target in targets:
            try:
                report, _ = services.report_run(
                    target=target,
                    period_from=period[0],
                    period_to=period[1],
                    origin=Report.Origin.SCHEDULED,
                    actor=actor,
                )
                done.append(report.pk)
            except Exception:
                logger.exception("The %s report for %s to %s failed", target.key, *period)
                failed.append(target.key)
    if failed:
        # The others are stored and sent; running the task again makes only the failed ones.
        raise RuntimeError(f"Reports failed for {', '.join(failed)}; the rest were made.")
    return done


@shared_task
def weekly_production_reports(on: str | None = None) -> list[int]:
    """Last week's report of each production not completed or cancelled."""
    targets = [Target.of(p) for p in services.active_productions().order_by("id")]
    return _run_all(targets, previous_week(_day(on)))


@shared_task
def monthly_guild_reports(on: str | None = None) -> list[int]:
    """Last month's report of each guild, across studios."""
    targets = [Target.of(g) for g in Guild.objects.order_by("code")]
    return _run_all(targets, previous_month(_day(on)))


@shared_task
def notify_open_items() -> dict[int, int]:
    """Notify every staff user of their new open items (reports.notifications)."""
    with acting_as(system_user()):
        return notifications.notify_open_items(now=timezone.now())


@shared_task(acks_late=True)
def send_notifications(user_id: int) -> int:
    """E-mail the user's notifications that are due, once."""
    with acting_as(system_user()):
        return notifications.notifications_send(user_id=user_id, now=timezone.now())


@shared_task
def send_daily_digests() -> int:
    """Publish the send of every user with notifications due: the daily digest."""
    with acting_as(system_user()):
        return notifications.digests_publish(now=timezone.now())
