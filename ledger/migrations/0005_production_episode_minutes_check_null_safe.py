"""production_episode_minutes_iff_television let a television production with no episode_minutes
through: for NULL minutes `episode_minutes > 0` is NULL, the whole check is NULL, and SQL (and
Django's constraint validation) treat a NULL check as passed. Require the minutes explicitly."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0004_journal"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="production",
            name="production_episode_minutes_iff_television",
        ),
        migrations.AddConstraint(
            model_name="production",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("episode_minutes__gt", 0),
                        ("episode_minutes__isnull", False),
                        ("kind", "television"),
                    ),
                    models.Q(
                        models.Q(("kind", "television"), _negated=True),
                        ("episode_minutes__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="production_episode_minutes_iff_television",
                violation_error_message=(
                    "Television productions need episode_minutes (above 0); other kinds have none."
                ),
            ),
        ),
    ]
