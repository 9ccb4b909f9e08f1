"""The agreement catalogue (ledger/registry/agreements.json) and the database say the same."""

import pytest

from ledger.models import Agreement, Guild
from ledger.registry import catalogue

pytestmark = pytest.mark.django_db


def test_every_guild_row_is_in_the_catalogue_and_the_other_way_round():
    assert dict(Guild.objects.values_list("code", "name")) == catalogue.GUILDS


def test_every_agreement_row_matches_its_catalogue_entry():
    rows = {
        a.code: (a.guild.code, a.name, a.effective_from, a.effective_to, a.tier, a.source)
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
    assert catalogue.AGREEMENTS["wga-mba-2026"].effective_to is None
