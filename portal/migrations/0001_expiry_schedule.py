"""The hourly expiry of consent requests (django-celery-beat), editable in the admin."""

from django.db import migrations

NAME = "Expire consent requests whose link expired unanswered"
TASK = "portal.tasks.expire_consent_requests"


def create(apps, schema_editor):
    crontabs = apps.get_model("django_celery_beat", "CrontabSchedule")
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = crontabs.objects.get_or_create(
        minute="15", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    tasks.objects.get_or_create(name=NAME, defaults={"task": TASK, "crontab": crontab, "kwargs": "{}"})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
