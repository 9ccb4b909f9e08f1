"""The three guilds and the five agreement versions of RULES.md §1, with their sources."""

from datetime import date

from django.db import migrations

GUILDS = [
    ("sag-aftra", "SAG-AFTRA"),
    ("wga", "Writers Guild of America"),
    ("iatse", "IATSE"),
]

AGREEMENTS = [
    (
        "sag-aftra", "sag-tvth-2023", "SAG-AFTRA TV/Theatrical (2023 MOA)",
        date(2023, 11, 9), date(2026, 6, 30), "S",
        "RULES.md §1; evidence.md §0: DLA Piper, 'Inside the SAG-AFTRA collective bargaining "
        "agreement' (2023-12-20) https://www.dlapiper.com/en-pt/insights/publications/2023/12/"
        "inside-the-sag-aftra-collective-bargaining-agreement",
    ),
    (
        "sag-aftra", "sag-tvth-2026", "SAG-AFTRA TV/Theatrical (2026)",
        date(2026, 7, 1), date(2030, 6, 30), "S",
        "RULES.md §1; evidence.md §0: TalentBrief https://www.talentbrief.co/brief/"
        "sag-aftra-ratifies-4-year-deal-ai-protections-pens-3",
    ),
    (
        "wga", "wga-mba-2023", "WGA Theatrical and Television Basic Agreement (2023 MBA)",
        date(2023, 9, 25), date(2026, 5, 1), "P",
        "RULES.md §1; evidence.md §0: WGAE '2023 MBA Contract Changes FAQ' "
        "https://wgaeast.org/guild-contracts/mba/2023-mba-contract-changes-faq",
    ),
    (
        "wga", "wga-mba-2026", "WGA MBA (2026)",
        date(2026, 5, 2), None, "S",
        "RULES.md §1 (end date not found); evidence.md §0: Hoodline https://hoodline.com/2026/04/"
        "hollywood-writers-ink-tentative-four-year-peace-with-studios/",
    ),
    (
        "iatse", "iatse-basic-2024", "IATSE Producer–IATSE Basic Agreement (2024)",
        date(2024, 8, 4), date(2027, 7, 31), "P/S",
        "RULES.md §1; evidence.md §0: ICG Local 600 https://icg600.com/MY600/Negotiations ; "
        "Screen Daily https://www.screendaily.com/news/"
        "iatse-members-ratify-three-year-deal-with-studios-streamers/5195587.article",
    ),
]


def seed(apps, schema_editor):
    Guild = apps.get_model("ledger", "Guild")
    Agreement = apps.get_model("ledger", "Agreement")
    guilds = {}
    for code, name in GUILDS:
        guilds[code], _ = Guild.objects.get_or_create(code=code, defaults={"name": name})
    for guild, code, name, start, end, tier, source in AGREEMENTS:
        Agreement.objects.get_or_create(
            code=code,
            defaults=dict(
                guild=guilds[guild], name=name, effective_from=start, effective_to=end,
                tier=tier, source=source,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
