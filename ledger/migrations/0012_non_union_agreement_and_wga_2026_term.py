"""The agreement rows follow the catalogue (ledger/registry/agreements.json, RULES.md §1):

- `non-union`, for work no guild covers: no guild, no term, no tier;
- `wga-mba-2026` ends on 2030-05-01 (evidence.md §9, The Daily Scout, tier S).

The values are copied here as they stand in the catalogue today, so that this migration means
the same whatever the catalogue later holds. Each change leaves a history row, as a change made
through the services would.
"""

from datetime import date

from django.db import migrations
from django.utils import timezone

NON_UNION = {
    "code": "non-union",
    "guild": None,
    "name": "No collective agreement",
    "effective_from": None,
    "effective_to": None,
    "tier": None,
    "source": "RULES.md §1: the general consent rules (consent.*) and state law (law.*) only; "
    "no union pay rules.",
}

WGA_2026 = "wga-mba-2026"
WGA_2026_TERM = {
    "effective_to": date(2030, 5, 1),
    "source": "RULES.md §1; evidence.md §9: The Daily Scout, 'runs from May 2, 2026 to May 1, "
    "2030' https://thedailyscout.com/s/vNrkhDy5Sq4 ; evidence.md §0: Hoodline "
    "https://hoodline.com/2026/04/hollywood-writers-ink-tentative-four-year-peace-with-studios/",
}
WGA_2026_TERM_BEFORE = {
    "effective_to": None,
    "source": "RULES.md §1 (end date not found); evidence.md §0: Hoodline https://hoodline.com/"
    "2026/04/hollywood-writers-ink-tentative-four-year-peace-with-studios/",
}
REASON = "Agreement catalogue: the non-union agreement; the WGA MBA (2026) term."
FIELDS = ("code", "guild_id", "name", "effective_from", "effective_to", "tier", "source")


def _record(apps, agreement, history_type: str) -> None:
    HistoricalAgreement = apps.get_model("ledger", "HistoricalAgreement")
    HistoricalAgreement.objects.create(
        id=agreement.pk,
        **{name: getattr(agreement, name) for name in FIELDS},
        history_date=timezone.now(),
        history_type=history_type,
        history_change_reason=REASON,
        history_user=None,
    )


def _set_term(apps, values: dict) -> None:
    Agreement = apps.get_model("ledger", "Agreement")
    agreement = Agreement.objects.filter(code=WGA_2026).first()
    if agreement is None or all(getattr(agreement, k) == v for k, v in values.items()):
        return
    for name, value in values.items():
        setattr(agreement, name, value)
    agreement.save()
    _record(apps, agreement, "~")


def forwards(apps, schema_editor):
    Agreement = apps.get_model("ledger", "Agreement")
    if not Agreement.objects.filter(code=NON_UNION["code"]).exists():
        _record(apps, Agreement.objects.create(**NON_UNION), "+")
    _set_term(apps, WGA_2026_TERM)


# Idempotent: tests that empty every table seed the catalogue's rows again with it.
seed = forwards


def backwards(apps, schema_editor):
    Agreement = apps.get_model("ledger", "Agreement")
    HistoricalAgreement = apps.get_model("ledger", "HistoricalAgreement")
    # Refused (PROTECT) while a production or engagement names the agreement. Its history rows
    # go with it: the schema it goes back to has no room for an agreement without a guild.
    Agreement.objects.filter(code=NON_UNION["code"]).delete()
    HistoricalAgreement.objects.filter(code=NON_UNION["code"]).delete()
    _set_term(apps, WGA_2026_TERM_BEFORE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_agreement_non_union")]
    operations = [migrations.RunPython(forwards, backwards)]
