"""Exhibitions and writing credits: over the API each market takes exactly the fields the residual
engine reads for it (a missing or foreign field is a 400 naming it, and nothing is written); a
second report of one exhibition or a second credit on one work is a 409; the CSV imports are all
or nothing with every faulty row listed and formula cells refused; studio staff write their
productions', guild staff only read, other studios see nothing and payroll keys are refused; a
performer's residual days follow their timecards and paid replica uses; the admin records,
corrects and imports through the same services."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from compensation import services
from compensation.models import Exhibition, WritingCredit
from compensation.residuals import exhibitions
from compensation.residuals.exhibitions import performer_days
from compensation.rules.residuals import input as residual_input
from consent.services import ai_use_record, ai_use_void
from ledger.access import Scope
from ledger.models import GuildStaff, StudioStaff
from tests.compensation.api_helpers import (
    build_world,
    client_for,
    ok,
    record_violation,
    results,
    upload,
)
from tests.factories import (
    EngagementFactory,
    ExhibitionFactory,
    UserFactory,
    WritingCreditFactory,
    agreement,
    grant_consent,
    guild,
)
from tests.helpers import assert_error, assert_refused_role, key_client
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

BASE = "/api/v1/residuals"
EXHIBITIONS = f"{BASE}/exhibitions/"
CREDITS = f"{BASE}/credits/"

# One valid body per market: the fields each market's rule reads, and no other.
MARKET_FIELDS = {
    "hbsvod": {
        "service": "Streamer",
        "subscriber_tier": "tier_2",
        "exhibition_year": 1,
        "views_first_90_days": "2500000.00",
        "domestic_subscribers": 10000000,
    },
    "network_tv": {
        "territory": "domestic",
        "gross_receipts": "150000.00",
        "broadcast_on": "2025-03-01",
    },
    "syndication": {"territory": "foreign", "gross_receipts": "80000.00"},
    "basic_cable": {"territory": "domestic", "gross_receipts": "40000.00"},
    "supplemental_markets": {
        "territory": "domestic",
        "gross_receipts": "12000.00",
        "first_period": True,
    },
}
# The fields each market cannot do without (beyond work and period, which every one needs).
REQUIRED = {
    "hbsvod": ["service", "subscriber_tier", "exhibition_year"],
    "network_tv": ["territory", "gross_receipts", "broadcast_on"],
    "syndication": ["territory", "gross_receipts"],
    "basic_cable": ["territory", "gross_receipts"],
    "supplemental_markets": ["territory", "gross_receipts"],
}
# A value for every market-specific field, to offer it to a market that does not take it.
ANY_VALUE = {
    "service": "Streamer",
    "subscriber_tier": "tier_2",
    "exhibition_year": 1,
    "views_first_90_days": "100.00",
    "hours_streamed_first_90_days": "100.00",
    "domestic_subscribers": 1000,
    "gross_receipts": "1000.00",
    "broadcast_on": "2025-03-01",
    "first_period": True,
}
FOREIGN = [
    (market, name)
    for market, fields in sorted(MARKET_FIELDS.items())
    for name in sorted(ANY_VALUE)
    if name not in residual_input._MARKET_KEYS[market]
]


@pytest.fixture
def world():
    return build_world()


def body(world, market="hbsvod", **fields) -> dict:
    out = {
        "production": world.film.pk,
        "episode": "101",
        "work_type": "episode",
        "running_minutes": 60,
        "market": market,
        "period_from": "2025-01-01",
        "period_to": "2025-12-31",
        **MARKET_FIELDS[market],
    }
    out.update(fields)
    return {k: v for k, v in out.items() if v is not None}


def written() -> tuple[int, int, int, int]:
    """Exhibitions and credits, and their history rows."""
    return (
        Exhibition.objects.count(),
        Exhibition.history.count(),
        WritingCredit.objects.count(),
        WritingCredit.history.count(),
    )


def post_import(client, url, text):
    return client.post(f"{url}import/", {"file": upload("import.csv", text)}, format="multipart")


# --- each market's fields, over the API -----------------------------------------------------


@pytest.mark.parametrize("market", sorted(MARKET_FIELDS))
def test_each_market_is_recorded_with_its_own_fields(world, market):
    response = world.client.post(EXHIBITIONS, body(world, market), format="json")
    created = ok(response, 201)
    assert_matches_schema(response, "POST", "/api/v1/residuals/exhibitions/")
    for name, value in MARKET_FIELDS[market].items():
        assert created[name] == value, name
    exhibition = Exhibition.objects.get()
    assert exhibition.history.get().history_user == world.maya
    assert exhibition.production == world.film and exhibition.running_minutes == 60
    if market == "hbsvod":
        assert created["territory"] == "worldwide"  # a domestic and a foreign line
    assert ok(world.client.get(f"{EXHIBITIONS}{created['id']}/")) == created


@pytest.mark.parametrize(
    ("market", "missing"),
    [(market, name) for market, names in sorted(REQUIRED.items()) for name in names],
)
def test_a_market_field_left_out_is_a_400_naming_it(world, market, missing):
    response = world.client.post(EXHIBITIONS, body(world, market, **{missing: None}), format="json")
    error = assert_error(response, 400, "invalid")
    assert missing in error["fields"], error
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize(("market", "foreign"), FOREIGN)
def test_a_field_the_market_does_not_have_is_a_400_naming_it(world, market, foreign):
    given = body(world, market, **{foreign: ANY_VALUE[foreign]})
    error = assert_error(world.client.post(EXHIBITIONS, given, format="json"), 400, "invalid")
    assert foreign in error["fields"], error
    assert f"Not a field of a {market} exhibition" in error["fields"][foreign]
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("market", "fields", "faulty"),
    [
        ("basic_cable", {"territory": "worldwide"}, "territory"),
        ("hbsvod", {"territory": "mars"}, "territory"),
        ("hbsvod", {"exhibition_year": 0}, "exhibition_year"),
        ("hbsvod", {"exhibition_year": 100}, "exhibition_year"),
        ("hbsvod", {"subscriber_tier": "Tier 2"}, "subscriber_tier"),
        ("hbsvod", {"period_to": "2024-12-31"}, "period_to"),
        ("hbsvod", {"hours_streamed_first_90_days": "100.00"}, "views_first_90_days"),
        ("hbsvod", {"views_first_90_days": None}, "domestic_subscribers"),
        ("hbsvod", {"domestic_subscribers": None}, "domestic_subscribers"),
        ("hbsvod", {"domestic_subscribers": 0}, "domestic_subscribers"),
        ("hbsvod", {"work_type": "Episode"}, "work_type"),
        ("hbsvod", {"running_minutes": 0}, "running_minutes"),
        ("hbsvod", {"running_minutes": 1000}, "running_minutes"),
        ("hbsvod", {"period_from": "1899-12-31"}, "period_from"),
        ("hbsvod", {"period_to": "2201-01-01"}, "period_to"),
        ("hbsvod", {"episode": "x" * 41}, "episode"),
        ("basic_cable", {"gross_receipts": "-1.00"}, "gross_receipts"),
        ("basic_cable", {"gross_receipts": 1000}, "gross_receipts"),
        ("network_tv", {"broadcast_on": "2025-02-30"}, "broadcast_on"),
    ],
)
def test_a_value_the_engine_cannot_read_is_refused(world, market, fields, faulty):
    response = world.client.post(EXHIBITIONS, body(world, market, **fields), format="json")
    error = assert_error(response, 400)
    assert faulty in error["fields"], error
    assert written() == (0, 0, 0, 0)


def test_every_fault_of_a_report_is_named_at_once(world):
    given = body(world, "basic_cable", work_type="Episode 1", running_minutes=0, service="X")
    error = assert_error(world.client.post(EXHIBITIONS, given, format="json"), 400)
    assert {"work_type", "running_minutes", "service"} <= set(error["fields"]), error


def test_the_hbsvod_success_bonus_takes_hours_instead_of_views(world):
    given = body(world, views_first_90_days=None, hours_streamed_first_90_days="9000000.50")
    created = ok(world.client.post(EXHIBITIONS, given, format="json"), 201)
    assert created["hours_streamed_first_90_days"] == "9000000.50"
    assert created["views_first_90_days"] is None
    # Without the bonus figures the exhibition still has its fixed residual.
    plain = body(world, episode="102", views_first_90_days=None, domestic_subscribers=None)
    assert (
        ok(world.client.post(EXHIBITIONS, plain, format="json"), 201)["domestic_subscribers"]
        is None
    )


def test_a_second_report_of_the_same_exhibition_is_a_409(world):
    first = ok(world.client.post(EXHIBITIONS, body(world), format="json"), 201)
    again = world.client.post(EXHIBITIONS, body(world, exhibition_year=2), format="json")
    error = assert_error(again, 409, "exhibition_exists")
    assert f"#{first['id']}" in error["message"]
    assert Exhibition.objects.count() == 1
    # The same work in another territory, period or episode is another exhibition.
    for other in ({"territory": "domestic"}, {"period_from": "2025-01-02"}, {"episode": "102"}):
        ok(world.client.post(EXHIBITIONS, body(world, **other), format="json"), 201)


def test_a_correction_is_saved_in_place_with_history(world):
    created = ok(world.client.post(EXHIBITIONS, body(world, "basic_cable"), format="json"), 201)
    url = f"{EXHIBITIONS}{created['id']}/"
    changed = ok(world.client.patch(url, {"gross_receipts": "45000.00"}, format="json"))
    assert changed["gross_receipts"] == "45000.00" and changed["territory"] == "domestic"
    exhibition = Exhibition.objects.get()
    assert [h.gross_receipts for h in exhibition.history.all()] == [
        Decimal("45000.00"),
        Decimal("40000.00"),
    ]
    assert exhibition.history.first().history_user == world.maya
    # A field of another market stays refused on a correction too.
    error = assert_error(world.client.patch(url, {"service": "Streamer"}, format="json"), 400)
    assert "service" in error["fields"]
    # A whole body (PUT) may repeat the production, not change it.
    other = ExhibitionFactory(production__studio=world.meridian).production
    moved = world.client.put(url, body(world, "basic_cable", production=other.pk), format="json")
    assert "production" in assert_error(moved, 400)["fields"]
    exhibition.refresh_from_db()
    assert exhibition.production == world.film and exhibition.gross_receipts == Decimal("45000")


def test_a_correction_to_another_market_must_clear_the_old_markets_fields(world):
    created = ok(world.client.post(EXHIBITIONS, body(world), format="json"), 201)
    url = f"{EXHIBITIONS}{created['id']}/"
    change = {"market": "basic_cable", "territory": "domestic", "gross_receipts": "10.00"}
    error = assert_error(world.client.patch(url, change, format="json"), 400)
    assert "Not a field of a basic_cable exhibition" in str(error["fields"])
    assert Exhibition.objects.get().market == "hbsvod"
    cleared = {
        **change,
        "service": "",
        "subscriber_tier": "",
        "exhibition_year": None,
        "views_first_90_days": None,
        "domestic_subscribers": None,
    }
    assert ok(world.client.patch(url, cleared, format="json"))["market"] == "basic_cable"


def test_the_filters_and_the_list(world):
    ExhibitionFactory(
        production=world.film,
        market="basic_cable",
        territory="domestic",
        service="",
        subscriber_tier="",
        exhibition_year=None,
        gross_receipts=Decimal("1.00"),
        period_from=date(2024, 1, 1),
        period_to=date(2024, 3, 31),
    )
    hbsvod = ExhibitionFactory(production=world.film)
    ExhibitionFactory(production=world.harbor)
    response = world.client.get(EXHIBITIONS, {"market": "hbsvod"})
    assert [row["id"] for row in results(response)] == [hbsvod.pk]
    assert_matches_schema(response, "GET", "/api/v1/residuals/exhibitions/")
    in_2025 = results(world.client.get(EXHIBITIONS, {"period_from": "2025-06-01"}))
    assert [row["id"] for row in in_2025] == [hbsvod.pk]
    early = results(world.client.get(EXHIBITIONS, {"period_to": "2024-12-31"}))
    assert [row["market"] for row in early] == ["basic_cable"]
    assert len(results(world.client.get(EXHIBITIONS, {"production": world.film.pk}))) == 2
    assert results(world.client.get(EXHIBITIONS, {"production": world.harbor.pk})) == []


# --- who may see and record -----------------------------------------------------------------


def test_another_studios_exhibitions_are_absent(world):
    theirs = ExhibitionFactory(production=world.harbor)
    nora = client_for(world.nora)
    assert_error(world.client.get(f"{EXHIBITIONS}{theirs.pk}/"), 404, "not_found")
    assert_error(
        world.client.patch(f"{EXHIBITIONS}{theirs.pk}/", {"episode": "x"}, format="json"), 404
    )
    assert results(world.client.get(EXHIBITIONS)) == []
    # Nor may Northgate report an exhibition of Meridian's production.
    error = assert_error(nora.post(EXHIBITIONS, body(world), format="json"), 400)
    assert "production" in error["fields"]
    assert Exhibition.objects.count() == 1


def test_guild_staff_read_the_exhibitions_of_their_productions_and_write_none(world):
    ours = ExhibitionFactory(production=world.film)
    theirs = ExhibitionFactory(production=world.harbor)  # SAG-AFTRA only
    sam, wes = client_for(world.sam), client_for(world.wes)
    assert {row["id"] for row in results(sam.get(EXHIBITIONS))} == {ours.pk, theirs.pk}
    assert {row["id"] for row in results(wes.get(EXHIBITIONS))} == {ours.pk}
    ok(sam.get(f"{EXHIBITIONS}{ours.pk}/"))
    assert_error(wes.get(f"{EXHIBITIONS}{theirs.pk}/"), 404)
    before = written()
    assert_refused_role(sam.post(EXHIBITIONS, body(world, episode="9"), format="json"), "sam")
    assert_refused_role(
        sam.patch(f"{EXHIBITIONS}{ours.pk}/", {"episode": "9"}, format="json"), "sam"
    )
    assert_refused_role(post_import(sam, EXHIBITIONS, "production\n"), "sam")
    assert written() == before


def test_a_caller_who_reads_by_guild_cannot_correct_by_it(world):
    """Northgate staff who are also SAG-AFTRA staff read Meridian's exhibitions (by the guild)
    and correct only Northgate's."""
    both = UserFactory(username="both")
    StudioStaff.objects.create(user=both, studio=world.northgate)
    GuildStaff.objects.create(user=both, guild=guild("sag-aftra"))
    ours = ExhibitionFactory(production=world.film)
    client = client_for(both)
    ok(client.get(f"{EXHIBITIONS}{ours.pk}/"))
    response = client.patch(f"{EXHIBITIONS}{ours.pk}/", {"episode": "9"}, format="json")
    assert_error(response, 403, "permission_denied")
    ours.refresh_from_db()
    assert ours.episode == "101"


def test_payroll_keys_and_anonymous_callers_are_refused(world):
    ours = ExhibitionFactory(production=world.film)
    key = key_client(world.meridian_key)
    for url in (EXHIBITIONS, f"{EXHIBITIONS}{ours.pk}/", CREDITS):
        assert_error(key.get(url), 403, "permission_denied")
        assert_refused_role(Client().get(url), "anonymous")
    before = written()
    for url, data in ((EXHIBITIONS, body(world, episode="9")), (CREDITS, {"credit": "x"})):
        assert_error(key.post(url, data, format="json"), 403, "permission_denied")
        assert_refused_role(Client().post(url, data, content_type="application/json"), "anonymous")
    assert_error(post_import(key, EXHIBITIONS, HEADER + csv_row(world)), 403)
    assert written() == before


# --- the CSV import -------------------------------------------------------------------------

HEADER = ",".join(exhibitions.EXHIBITION_COLUMNS) + "\n"


def csv_row(world, production=None, **cells) -> str:
    values = {
        "production": str((production or world.film).pk),
        "episode": "101",
        "work_type": "episode",
        "running_minutes": "60",
        "market": "hbsvod",
        "period_from": "2025-01-01",
        "period_to": "2025-12-31",
        "service": "Streamer",
        "subscriber_tier": "tier_2",
        "exhibition_year": "1",
    }
    values.update(cells)
    return ",".join(values.get(c, "") for c in exhibitions.EXHIBITION_COLUMNS) + "\n"


def cable(world, **cells) -> str:
    fields = {
        "market": "basic_cable",
        "territory": "domestic",
        "service": "",
        "subscriber_tier": "",
        "exhibition_year": "",
        "gross_receipts": "40000.00",
        **cells,
    }
    return csv_row(world, **fields)


def test_an_import_records_every_row_and_corrects_what_was_reported(world):
    text = HEADER + csv_row(world) + cable(world) + csv_row(world, episode="102")
    response = post_import(world.client, EXHIBITIONS, text)
    assert ok(response, 201) == {"created": 3, "updated": 0}
    assert_matches_schema(response, "POST", "/api/v1/residuals/exhibitions/import/")
    cable_row = Exhibition.objects.get(market="basic_cable")
    assert cable_row.gross_receipts == Decimal("40000.00")
    assert cable_row.history.get().history_user == world.maya
    assert Exhibition.objects.get(episode="101", market="hbsvod").territory == "worldwide"
    again = HEADER + cable(world, gross_receipts="41000.00")
    assert ok(post_import(world.client, EXHIBITIONS, again), 201) == {"created": 0, "updated": 1}
    cable_row.refresh_from_db()
    assert cable_row.gross_receipts == Decimal("41000.00")
    assert Exhibition.objects.count() == 3


def test_an_import_with_faulty_rows_records_nothing_and_lists_every_one(world):
    text = (
        HEADER
        + csv_row(world)  # 2: good
        + cable(world, service="Streamer")  # 3: not a field of basic cable
        + csv_row(world, production=world.harbor, episode="7")  # 4: another studio's
        + csv_row(world, episode="8", service='=HYPERLINK("http://x")')  # 5: a formula
        + csv_row(world)  # 6: row 2 again
        + csv_row(world, episode="9", running_minutes="sixty", exhibition_year="0")  # 7
        + cable(world, episode="10", gross_receipts="1e3", period_to="2025-13-01")  # 8
        + csv_row(world, episode="11", territory="mars")  # 9: the engine's territories
    )
    before = written()
    error = assert_error(post_import(world.client, EXHIBITIONS, text), 400, "import_invalid")
    rows = {row["row"]: row["fields"] for row in error["fields"]["rows"]}
    assert sorted(rows) == [3, 4, 5, 6, 7, 8, 9], error
    assert "service" in rows[3]
    assert rows[4] == {"production": "No such production in your scope."}
    assert rows[5] == {"service": exhibitions.FORMULA_CELL}
    assert "period_from" in rows[6] and "row 2" in rows[6]["period_from"].lower()
    assert {"running_minutes"} <= set(rows[7])
    assert {"gross_receipts", "period_to"} <= set(rows[8])
    assert "territory" in rows[9]
    assert written() == before == (0, 0, 0, 0)


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-2+3", "@SUM(A1)", " =1", "\t1"])
def test_a_formula_cell_is_refused_in_any_column(world, cell):
    for column in ("episode", "service", "exhibition_year"):
        text = HEADER + csv_row(world, **{column: f'"{cell}"'})
        error = assert_error(post_import(world.client, EXHIBITIONS, text), 400, "import_invalid")
        assert error["fields"]["rows"][0]["fields"] == {column: exhibitions.FORMULA_CELL}
    assert written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "text",
    [
        "production,market\n1,hbsvod\n",  # required columns missing
        HEADER.strip() + ",colour\n",  # an unknown column
        HEADER,  # no rows
    ],
)
def test_an_unusable_file_is_a_400(world, text):
    assert_error(post_import(world.client, EXHIBITIONS, text), 400, "import_invalid")
    assert written() == (0, 0, 0, 0)


# --- writing credits ------------------------------------------------------------------------


def test_a_writers_credit_is_recorded_and_corrected(world):
    response = world.client.post(
        CREDITS,
        {"engagement": world.abe.pk, "episode": "101", "credit": "written_by"},
        format="json",
    )
    created = ok(response, 201)
    assert_matches_schema(response, "POST", "/api/v1/residuals/credits/")
    assert (created["writer"], created["credit"]) == ("Abe Writer", "written_by")
    url = f"{CREDITS}{created['id']}/"
    assert ok(world.client.patch(url, {"credit": "teleplay_by"}, format="json"))["credit"] == (
        "teleplay_by"
    )
    credit = WritingCredit.objects.get()
    assert [(h.credit, h.history_user) for h in credit.history.all()] == [
        ("teleplay_by", world.maya),
        ("written_by", world.maya),
    ]
    other = EngagementFactory(
        production=world.film, agreement=agreement("wga-mba-2023"), classification="writer"
    )
    moved = world.client.patch(url, {"engagement": other.pk}, format="json")
    assert "engagement" in assert_error(moved, 400)["fields"]
    bad = world.client.patch(url, {"credit": "directed_by"}, format="json")
    assert "credit" in assert_error(bad, 400)["fields"]
    credit.refresh_from_db()
    assert (credit.engagement, credit.credit) == (world.abe, "teleplay_by")


def test_only_a_wga_engagement_has_a_writing_credit(world):
    for engagement in (world.ann, world.cy):
        response = world.client.post(
            CREDITS, {"engagement": engagement.pk, "credit": "written_by"}, format="json"
        )
        error = assert_error(response, 400, "not_a_wga_engagement")
        assert error["fields"] == {"engagement": "Not under a WGA agreement."}
    assert written() == (0, 0, 0, 0)


def test_a_second_credit_on_the_same_work_is_a_409(world):
    first = {"engagement": world.abe.pk, "episode": "101", "credit": "story_by"}
    ok(world.client.post(CREDITS, first, format="json"), 201)
    again = world.client.post(CREDITS, {**first, "credit": "teleplay_by"}, format="json")
    assert_error(again, 409, "credit_exists")
    assert WritingCredit.objects.get().credit == "story_by"
    # Another episode, or the whole work, is another credit.
    ok(world.client.post(CREDITS, {**first, "episode": "102"}, format="json"), 201)
    ok(world.client.post(CREDITS, {**first, "episode": ""}, format="json"), 201)
    assert WritingCredit.objects.count() == 3


def test_credits_are_seen_by_the_studio_and_the_wga_only(world):
    ours = WritingCreditFactory(engagement=world.abe)
    harbor_writer = EngagementFactory(
        production=world.harbor, agreement=agreement("wga-mba-2023"), classification="writer"
    )
    theirs = WritingCreditFactory(engagement=harbor_writer)
    assert {row["id"] for row in results(world.client.get(CREDITS))} == {ours.pk}
    assert_error(world.client.get(f"{CREDITS}{theirs.pk}/"), 404)
    wes, sam = client_for(world.wes), client_for(world.sam)
    assert {row["id"] for row in results(wes.get(CREDITS))} == {ours.pk, theirs.pk}
    assert results(sam.get(CREDITS)) == []
    assert_error(sam.get(f"{CREDITS}{ours.pk}/"), 404)
    assert_refused_role(
        wes.patch(f"{CREDITS}{ours.pk}/", {"credit": "story_by"}, format="json"), "wes"
    )
    assert_refused_role(
        wes.post(CREDITS, {"engagement": world.abe.pk, "credit": "story_by"}, format="json"),
        "wes",
    )
    filtered = results(wes.get(CREDITS, {"production": world.harbor.pk}))
    assert [row["id"] for row in filtered] == [theirs.pk]
    assert [row["id"] for row in results(wes.get(CREDITS, {"engagement": world.abe.pk}))] == [
        ours.pk
    ]
    # Nor may Northgate credit Meridian's writer.
    nora = client_for(world.nora)
    refused = nora.post(CREDITS, {"engagement": world.abe.pk, "credit": "story_by"}, format="json")
    assert "engagement" in assert_error(refused, 400)["fields"]
    ours.refresh_from_db()
    assert ours.credit == "written_by"


def test_the_credits_import_is_all_or_nothing(world):
    header = "engagement,episode,credit\n"
    good = f"{world.abe.pk},101,written_by\n{world.abe.pk},102,story_by\n"
    bad = (
        header
        + good
        + f"{world.ann.pk},101,written_by\n"  # 4: not a WGA engagement
        + f"{world.abe.pk},101,teleplay_by\n"  # 5: row 2's work again
        + f"{world.abe.pk},103,directed_by\n"  # 6: no such credit
        + f"{world.abe.pk},=1+1,written_by\n"  # 7: a formula
    )
    error = assert_error(post_import(world.client, CREDITS, bad), 400, "import_invalid")
    rows = {row["row"]: row["fields"] for row in error["fields"]["rows"]}
    assert sorted(rows) == [4, 5, 6, 7], error
    assert rows[4] == {"engagement": "Not under a WGA agreement."}
    assert "row 2" in rows[5]["episode"].lower()
    assert "credit" in rows[6] and rows[7] == {"episode": exhibitions.FORMULA_CELL}
    assert written() == (0, 0, 0, 0)
    assert ok(post_import(world.client, CREDITS, header + good), 201) == {
        "created": 2,
        "updated": 0,
    }
    again = header + f"{world.abe.pk},102,screenplay_by\n"
    assert ok(post_import(world.client, CREDITS, again), 201) == {"created": 0, "updated": 1}
    assert WritingCredit.objects.get(episode="102").credit == "screenplay_by"


# --- a performer's residual days ------------------------------------------------------------


def record_card(world, day, episode=""):
    return services.timecard_save(
        actor=world.maya,
        engagement=world.ann,
        date=day,
        first_call=time(7),
        dismissal=time(15, 30),
        meals=[["12:00", "12:30"]],
        episode=episode,
    )


def replica_use(engagement, days, *, on=datetime(2025, 8, 6, 9, tzinfo=UTC)):
    return ai_use_record(
        actor=UserFactory(username="use-recorder"),
        scope=Scope(superuser=True),
        production=engagement.production,
        person=engagement.person,
        kind="replica_use",
        starts_at=on,
        days=Decimal(days),
        description="Digital replica in the harbour scene",
    )


def test_days_in_person_are_the_timecards_of_the_episode_when_both_name_one(world):
    assert performer_days(world.ann, "101") == (0, 0)
    record_card(world, date(2025, 8, 4))
    record_card(world, date(2025, 8, 5))
    # No timecard names an episode: every one is the work's.
    assert performer_days(world.ann, "101") == (Decimal(2), 0)
    record_card(world, date(2025, 8, 6), "101")
    record_card(world, date(2025, 8, 7), "101")
    record_card(world, date(2025, 8, 8), "102")
    assert performer_days(world.ann, "101") == (Decimal(2), 0)
    assert performer_days(world.ann, "102") == (Decimal(1), 0)
    assert performer_days(world.ann, "103") == (Decimal(0), 0)
    # An exhibition of the whole work counts every day.
    assert performer_days(world.ann, "") == (Decimal(5), 0)
    # Another performer's days are theirs.
    assert performer_days(world.bob, "") == (0, 0)


def test_replica_days_count_only_the_paid_uses(world):
    held = record_violation(world.ann, days="2")
    assert performer_days(world.ann, "") == (0, 0), "a held violation is not paid"
    released = record_violation(world.ann, days="3", on=datetime(2025, 8, 7, 9, tzinfo=UTC))
    services.hold_resolve(actor=world.maya, ai_use=released, decision="release", reason="Rider.")
    assert performer_days(world.ann, "") == (0, Decimal("3.00"))
    services.hold_resolve(actor=world.maya, ai_use=held, decision="void", reason="Twice.")
    assert performer_days(world.ann, "") == (0, Decimal("3.00"))
    grant_consent(world.ann, kind="replica_use", notice_at=None)
    allowed = replica_use(world.ann, "1.5", on=datetime(2025, 8, 8, 9, tzinfo=UTC))
    assert allowed.status == "allowed", allowed.reasons
    assert performer_days(world.ann, "") == (0, Decimal("4.50"))
    ai_use_void(actor=world.maya, use=allowed, reason="Recorded against the wrong person.")
    assert performer_days(world.ann, "") == (0, Decimal("3.00")), "a voided use counts nothing"
    # Another production's uses, and other people's, are not this engagement's.
    elsewhere = EngagementFactory(person=world.ann.person, production=world.harbor)
    assert performer_days(elsewhere, "") == (0, 0)
    assert performer_days(world.bob, "") == (0, 0)


# --- the admin ------------------------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_form(world, market="basic_cable", **fields) -> dict:
    """An admin form's POST: every field, empty where not given."""
    given = body(world, market, **fields)
    out = {name: "" for name in exhibitions.EXHIBITION_FIELDS}
    out.update({k: v for k, v in given.items() if v is not True})
    if given.get("first_period") is True:
        out["first_period"] = "on"
    else:
        out.pop("first_period")
    return {k: str(v) for k, v in out.items()}


def test_the_exhibition_admin_lists_by_scope(world):
    ExhibitionFactory(production=world.film, service="Meridian Plus")
    theirs = ExhibitionFactory(production=world.harbor, service="Harbor Stream")
    url = reverse("admin:compensation_exhibition_changelist")
    html = admin_client(world.maya).get(url).content.decode()
    assert "Meridian Plus" in html and "Harbor Stream" not in html
    assert "Import from CSV" in html
    html = admin_client(world.maya).get(url, {"market": "basic_cable"}).content.decode()
    assert "Meridian Plus" not in html
    assert "Harbor Stream" in admin_client(world.sam).get(url).content.decode()
    change = reverse("admin:compensation_exhibition_change", args=[theirs.pk])
    assert admin_client(world.maya).get(change).status_code == 404


def test_an_exhibition_is_added_and_corrected_in_the_admin_through_the_service(world):
    client = admin_client(world.maya)
    add = reverse("admin:compensation_exhibition_add")
    response = client.post(add, admin_form(world, service="Streamer"))
    assert response.status_code == 200, "refused, shown on the form"
    assert "Not a field of a basic_cable exhibition" in response.content.decode()
    assert written() == (0, 0, 0, 0)
    response = client.post(add, admin_form(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    exhibition = Exhibition.objects.get()
    assert exhibition.gross_receipts == Decimal("40000.00")
    assert exhibition.history.get().history_user == world.maya
    change = reverse("admin:compensation_exhibition_change", args=[exhibition.pk])
    assert client.get(change).status_code == 200
    form = admin_form(world, gross_receipts="42000.00")
    form.pop("production")
    assert client.post(change, form).status_code == 302
    exhibition.refresh_from_db()
    assert exhibition.gross_receipts == Decimal("42000.00")
    assert exhibition.history.first().history_user == world.maya
    # Guild staff read the page, and change nothing.
    sam = admin_client(world.sam)
    assert sam.get(change).status_code == 200
    assert sam.post(change, {**form, "gross_receipts": "1.00"}).status_code == 403
    assert sam.get(add).status_code == 403
    exhibition.refresh_from_db()
    assert exhibition.gross_receipts == Decimal("42000.00")


def test_the_exhibition_import_page(world):
    client = admin_client(world.maya)
    url = reverse("admin:compensation_exhibition_import")
    html = client.get(url).content.decode()
    assert ", ".join(exhibitions.EXHIBITION_COLUMNS) in html and 'type="file"' in html
    bad = HEADER + csv_row(world) + cable(world, service="Streamer")
    response = client.post(url, {"file": upload("e.csv", bad)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "nothing was imported" in html and "<td>3</td>" in html
    assert written() == (0, 0, 0, 0)
    response = client.post(url, {"file": upload("e.csv", HEADER + csv_row(world))})
    assert response.status_code == 302
    assert Exhibition.objects.get().history.get().history_user == world.maya
    assert "Imported: 1 new, 0 corrected." in client.get(response["Location"]).content.decode()
    assert admin_client(world.sam).post(url, {"file": upload("e.csv", bad)}).status_code == 403


def test_the_credit_admin_records_through_the_service(world):
    client = admin_client(world.maya)
    add = reverse("admin:compensation_writingcredit_add")
    refused = client.post(add, {"engagement": world.ann.pk, "episode": "", "credit": "story_by"})
    assert refused.status_code == 200 and "Not under a WGA agreement." in refused.content.decode()
    assert written() == (0, 0, 0, 0)
    response = client.post(add, {"engagement": world.abe.pk, "episode": "", "credit": "story_by"})
    assert response.status_code == 302
    credit = WritingCredit.objects.get()
    assert credit.history.get().history_user == world.maya
    again = client.post(add, {"engagement": world.abe.pk, "episode": "", "credit": "written_by"})
    assert again.status_code == 200 and "already has a credit" in again.content.decode()
    change = reverse("admin:compensation_writingcredit_change", args=[credit.pk])
    assert client.post(change, {"episode": "", "credit": "written_by"}).status_code == 302
    credit.refresh_from_db()
    assert credit.credit == "written_by"
    page = client.get(reverse("admin:compensation_writingcredit_import"))
    assert page.status_code == 200 and "engagement, episode, credit" in page.content.decode()
    listing = client.get(reverse("admin:compensation_writingcredit_changelist"))
    assert "Abe Writer" in listing.content.decode()
