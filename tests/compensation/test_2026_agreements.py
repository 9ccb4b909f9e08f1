"""Compensation under the 2026 agreements and without one, through the records: a run of a
production with an engagement under `non-union` computes no union pay for it and says so (the rest
of the run is computed); a rate sheet supplies the ICDR minimum of sag-tvth-2026 that nothing ships;
a non-union agreement has no rate sheet."""

from datetime import date
from decimal import Decimal

import pytest

from compensation import selectors, services
from compensation.models import CompensationLine
from compensation.rules.quote import quote
from core.errors import DomainError
from tests.compensation.api_helpers import (
    build_world,
    clear_parameter_cache,
    computed_run,
    record_day,
)
from tests.factories import EngagementFactory, PersonFactory, agreement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_parameters():
    clear_parameter_cache()
    yield
    clear_parameter_cache()


@pytest.fixture
def world():
    w = build_world()
    w.nell = EngagementFactory(
        production=w.film,
        person=PersonFactory(legal_name="Nell Nonunion", registered_by=w.meridian),
        agreement=agreement("non-union"),
        classification="day_performer",
        rate_amount=Decimal("900.00"),
    )
    return w


def test_a_run_notes_each_non_union_engagement_and_computes_the_others(world):
    record_day(world.ann, world.maya)
    record_day(world.nell, world.maya)
    run = computed_run(world.film, world.maya)
    notes = [e for e in run.exceptions if e["code"] == "non_union"]
    assert notes == [
        {
            "code": "non_union",
            "rule": "",
            "message": notes[0]["message"],
            "engagement": world.nell.pk,
            "person": str(world.nell.person),
        }
    ]
    assert "non-union: no union pay rules apply" in notes[0]["message"]
    lines = CompensationLine.objects.filter(run=run)
    assert not lines.filter(engagement=world.nell).exists()
    assert lines.filter(engagement=world.ann, rule="sag.pay.day").exists()
    assert run.engagements == 4  # Ann, Abe, Cy and Nell: the film's engagements


def test_a_non_union_engagement_without_records_is_still_noted(world):
    run = computed_run(world.film, world.maya)
    assert [e["engagement"] for e in run.exceptions if e["code"] == "non_union"] == [world.nell.pk]
    assert run.line_count == 0


def _icdr_body(amount: str) -> dict:
    return {
        "agreement": "sag-tvth-2026",
        "classification": "day_performer",
        "production_kind": "theatrical",
        "replica_uses": [{"kind": "icdr_use", "date": "2026-09-01", "amount": amount}],
    }


def test_a_rate_sheet_supplies_the_icdr_minimum_of_sag_tvth_2026(world):
    before = quote(_icdr_body("2000"), selectors.current_parameters()).as_dict()
    assert [(e["code"], e["parameter"]) for e in before["exceptions"]] == [
        ("rate_missing", "sag.minimum.icdr")
    ]
    sheet = services.rate_sheet_load(
        actor=world.sam,
        agreement=agreement("sag-tvth-2026"),
        name="SAG-AFTRA ICDR minimum 2026",
        source="SAG-AFTRA rate sheet 2026-27",
        file_name="icdr.csv",
        content="parameter,from,value\nsag.minimum.icdr,2026-07-01,2500\n",
        file_format="csv",
    )
    assert sheet.values.get().until == date(2030, 6, 30)
    after = quote(_icdr_body("2000"), selectors.current_parameters()).as_dict()
    [line] = after["lines"]
    assert (line["amount"], after["exceptions"]) == ("2500.00", [])
    assert {"residuals", "below_scale"} <= set(line["flags"])
    icdr = next(p for p in line["parameters"] if p["parameter"] == "sag.minimum.icdr")
    assert icdr["sheet"] == sheet.label


def test_a_non_union_agreement_has_no_rate_sheet(world):
    with pytest.raises(DomainError, match="no union pay rules"):
        services.rate_sheet_load(
            actor=world.root,
            agreement=agreement("non-union"),
            name="anything",
            source="anything",
            file_name="x.csv",
            content="parameter,from,value\nsag.minimum.icdr,2026-07-01,2500\n",
            file_format="csv",
        )
