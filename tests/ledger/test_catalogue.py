"""The agreement catalogue (ledger/registry/agreements.json) and the database say the same."""

from datetime import date

import pytest

from ledger.models import Agreement, Guild
from ledger.registry import catalogue

pytestmark = pytest.mark.django_db


def test_every_guild_row_is_in_the_catalogue_and_the_other_way_round():
    assert dict(Guild.objects.values_list("code", "name")) == catalogue.GUILDS


def test_every_agreement_row_matches_its_catalogue_entry():
    rows = {
        a.code: (
            a.guild.code if a.guild else None,
            a.name,
            a.effective_from,
            a.effective_to,
            a.tier,
            a.source,
        )
        for a in Agreement.objects.select_related("guild")
    }
    entries = {
        v.code: (v.guild, v.name, v.effective_from, v.effective_to, v.tier, v.source)
        for v in catalogue.AGREEMENTS.values()
    }
    assert rows == entries


def test_an_agreement_is_in_term_from_its_first_to_its_last_day():
    sag_2023 = catalogue.AGREEMENTS["sag-tvth-2023"]
    assert sag_2023.in_term(sag_2023.effective_from)
    assert sag_2023.in_term(sag_2023.effective_to)
    assert not sag_2023.in_term(catalogue.AGREEMENTS["sag-tvth-2026"].effective_from)
    wga_2026 = catalogue.AGREEMENTS["wga-mba-2026"]
    assert wga_2026.in_term(date(2030, 5, 1)) and not wga_2026.in_term(date(2030, 5, 2))


def test_the_non_union_agreement_has_no_guild_term_or_tier_and_is_always_in_force():
    row = Agreement.objects.get(code=catalogue.NON_UNION)
    assert (row.guild, row.effective_from, row.effective_to, row.tier) == (None, None, None, None)
    assert not row.is_union and row.in_force_on(date(1990, 1, 1))
    assert row.in_force_on(date(2100, 1, 1)) and row.term_label == "always (no term)"
    assert all(a.is_union for a in Agreement.objects.exclude(code=catalogue.NON_UNION))


def test_the_data_migration_records_its_changes_in_history():
    non_union = Agreement.history.get(code=catalogue.NON_UNION)
    assert non_union.history_type == "+" and non_union.guild_id is None
    wga_2026 = Agreement.history.filter(code="wga-mba-2026").latest()
    assert wga_2026.history_type == "~" and wga_2026.effective_to == date(2030, 5, 1)
