"""The notification schedules (django-celery-beat), editable in the admin: the scan of every
staff user's open items every five minutes, and the daily digest at NOTIFICATION_DIGEST_HOUR
(UTC) as the settings say when this migration runs. Removing this migration's schedules on the
way back leaves any the admin added."""

from django.conf import settings
from django.db import migrations

SCAN_NAME = "Notify staff of their new open items"
SCAN_TASK = "reports.tasks.notify_open_items"
SCAN_EVERY_MINUTES = 5
DIGEST_NAME = "Send the daily digest of notifications"
DIGEST_TASK = "reports.tasks.send_daily_digests"


def create(apps, schema_editor):
    intervals = apps.get_model("django_celery_beat", "IntervalSchedule")
    crontabs = apps.get_model("django_celery_beat", "CrontabSchedule")
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = intervals.objects.get_or_create(every=SCAN_EVERY_MINUTES, period="minutes")
    tasks.objects.get_or_create(
        name=SCAN_NAME, defaults={"task": SCAN_TASK, "interval": every, "kwargs": "{}"}
    )
    daily, _ = crontabs.objects.get_or_create(
        minute="0",
        hour=str(settings.NOTIFICATION_DIGEST_HOUR),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    tasks.objects.get_or_create(
        name=DIGEST_NAME, defaults={"task": DIGEST_TASK, "crontab": daily, "kwargs": "{}"}
    )


def remove(apps, schema_editor):
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")
    tasks.objects.filter(name__in=[SCAN_NAME, DIGEST_NAME]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
