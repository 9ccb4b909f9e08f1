"""Acknowledgements of a run's review items before its approval: notes relied upon, append-only
in the database itself (core.append_only)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("compensation", "0005_residual_run_admin"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RunAcknowledgement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        help_text='The review item, e.g. "confirm:sag.ph:T".', max_length=200
                    ),
                ),
                ("note", models.TextField(help_text="Why the item may be approved as it is.")),
                ("acknowledged_at", models.DateTimeField()),
                (
                    "acknowledged_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="acknowledgements",
                        to="compensation.compensationrun",
                    ),
                ),
            ],
            options={
                "ordering": ["run_id", "acknowledged_at", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("run", "key"), name="run_acknowledgement_once"),
                    models.CheckConstraint(
                        condition=models.Q(("note", ""), _negated=True),
                        name="run_acknowledgement_note",
                    ),
                ],
            },
        ),
        append_only("compensation_runacknowledgement"),
    ]
