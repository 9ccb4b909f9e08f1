"""A run notes when its computation reached the task queue (`dispatched_at`), and the dispatch
sweep (core/outbox.py) is scheduled every minute: it publishes again what a broker that was
away never received. The schedule is an editable row of django-celery-beat, like the reports';
going back removes this migration's row only."""

from django.db import migrations, models

SWEEP_NAME = "Publish work still waiting for the task queue"
SWEEP_TASK = "ledger.tasks.dispatch_waiting"
EVERY_SECONDS = 60


def create(apps, schema_editor):
    intervals = apps.get_model("django_celery_beat", "IntervalSchedule")
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = intervals.objects.get_or_create(every=EVERY_SECONDS, period="seconds")
    tasks.objects.get_or_create(
        name=SWEEP_NAME, defaults={"task": SWEEP_TASK, "interval": every, "kwargs": "{}"}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compensation", "0002_append_only"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="compensationrun",
            name="dispatched_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "When the computation reached the task queue; empty while it waits for it."
                ),
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="historicalcompensationrun",
            name="dispatched_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "When the computation reached the task queue; empty while it waits for it."
                ),
                null=True,
            ),
        ),
        migrations.RunPython(create, remove),
    ]
