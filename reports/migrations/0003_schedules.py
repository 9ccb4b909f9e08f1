"""The report schedules (django-celery-beat), editable in the admin: weekly per active production
(Mondays 06:00 UTC, the week before) and monthly per guild (the 1st, 07:00 UTC, the month before).
Removing this migration's schedules on the way back leaves any the admin added."""

from django.db import migrations

SCHEDULES = (
    (
        "Weekly compliance report of each active production",
        "reports.tasks.weekly_production_reports",
        {"minute": "0", "hour": "6", "day_of_week": "1", "day_of_month": "*"},
    ),
    (
        "Monthly compliance report of each guild",
        "reports.tasks.monthly_guild_reports",
        {"minute": "0", "hour": "7", "day_of_week": "*", "day_of_month": "1"},
    ),
)


def create(apps, schema_editor):
    crontabs = apps.get_model("django_celery_beat", "CrontabSchedule")
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, when in SCHEDULES:
        crontab, _ = crontabs.objects.get_or_create(month_of_year="*", timezone="UTC", **when)
        tasks.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "kwargs": "{}"}
        )


def remove(apps, schema_editor):
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")
    tasks.objects.filter(name__in=[name for name, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
