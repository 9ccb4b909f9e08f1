"""The non-union agreement in the registry, and agreements offered where they are in force.

RULES.md §1: `non-union` is the agreement of work no guild covers (no guild, no term, no union
pay rules); the version of a guild's agreement that governs work is the one in force on its date.
A person who belongs to no guild is engaged under `non-union` on a production that attaches it;
guild staff never see that work through their guild's scope; attaching an agreement in force on
no day of the production is allowed, with a warning, and staff are offered in-force agreements
first."""

import re
from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from compensation.models import RateSheet
from ledger.access import Scope
from ledger.models import Agreement, Engagement, Guild, ProductionAgreement
from ledger.registry import engagement_import, services
from ledger.registry.catalogue import NON_UNION
from tests.compensation.api_helpers import load_sheet
from tests.factories import (
    EngagementFactory,
    MembershipFactory,
    PersonFactory,
    ProductionAgreementFactory,
    ProductionFactory,
    StudioFactory,
    agreement,
    guild,
    guild_staff,
    studio_staff,
)
from tests.helpers import assert_error, list_ids, make_payable
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    alpha = StudioFactory(name="Alpha Pictures", slug="alpha")
    indie = ProductionFactory(studio=alpha, title="Indie Short")  # non-union only
    ProductionAgreementFactory(production=indie, agreement=agreement(NON_UNION))
    mixed = ProductionFactory(studio=alpha, title="Mixed Feature")  # SAG-AFTRA and non-union
    ProductionAgreementFactory(production=mixed, agreement=agreement("sag-tvth-2023"))
    ProductionAgreementFactory(production=mixed, agreement=agreement(NON_UNION))
    return {
        "alpha": alpha,
        "indie": indie,
        "mixed": mixed,
        "nora": PersonFactory(legal_name="Nora Nonmember", registered_by=alpha),
        "sam": PersonFactory(legal_name="Sam Member", registered_by=alpha),
        "alice": studio_staff(alpha, "alice"),
        "sally": guild_staff("sag-aftra", "sally"),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def engagement_body(person, production, **overrides):
    body = {
        "person": person.pk,
        "production": production.pk,
        "agreement": NON_UNION,
        "classification": "day_performer",
        "rate": {"amount": "900.00", "unit": "day", "currency": "USD"},
        "start_date": "2025-06-02",
    }
    body.update(overrides)
    return body


# --- 1. the agreement row ------------------------------------------------------------------


def _insert(**fields):
    values = dict(name="X", source="test", effective_from=date(2025, 1, 1), tier="S")
    values.update(fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.create(**values)


def test_only_the_non_union_agreement_may_lack_a_guild_and_it_has_no_tier():
    _insert(code="another-non-union", guild=None)
    _insert(code="sag-no-tier", guild=guild("sag-aftra"), tier=None)
    _insert(code="sag-no-start", guild=guild("sag-aftra"), effective_from=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.filter(code=NON_UNION).delete()
        Agreement.objects.create(code=NON_UNION, name="X", source="s", guild=guild("wga"))


def test_the_agreement_api_answers_the_non_union_agreement_with_nulls(world):
    response = api(world["sally"]).get(f"/api/v1/agreements/{NON_UNION}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["guild"], body["effective_from"], body["tier"]) == (None, None, None)
    assert_matches_schema(response, "GET", "/api/v1/agreements/{code}/")
    listed = api(world["sally"]).get("/api/v1/agreements/").json()["results"]
    assert NON_UNION in {row["code"] for row in listed}


# --- 2. people with no guild ---------------------------------------------------------------


def test_a_person_with_no_membership_is_engaged_under_non_union(world):
    response = api(world["alice"]).post(
        "/api/v1/engagements/", engagement_body(world["nora"], world["indie"]), format="json"
    )
    assert response.status_code == 201, response.content
    engagement = Engagement.objects.get(pk=response.json()["id"])
    assert engagement.agreement.code == NON_UNION and not engagement.agreement.is_union
    assert engagement.history.get().history_user == world["alice"]


def test_non_union_needs_the_agreement_attached_to_the_production(world):
    production = ProductionFactory(studio=world["alpha"], title="Union Only")
    ProductionAgreementFactory(production=production, agreement=agreement("sag-tvth-2023"))
    response = api(world["alice"]).post(
        "/api/v1/engagements/", engagement_body(world["nora"], production), format="json"
    )
    body = assert_error(response, 400)
    assert "not attached" in str(body["fields"]["agreement"])
    assert not Engagement.objects.exists()


def test_a_member_of_the_classifications_guild_is_not_engaged_non_union(world):
    MembershipFactory(person=world["sam"], guild=guild("sag-aftra"))
    client = api(world["alice"])
    response = client.post(
        "/api/v1/engagements/", engagement_body(world["sam"], world["mixed"]), format="json"
    )
    body = assert_error(response, 400)
    assert "sag-aftra member" in str(body["fields"]["agreement"])
    assert not Engagement.objects.exists()
    # Work of another guild's kind is not covered by the person's guild.
    response = client.post(
        "/api/v1/engagements/",
        engagement_body(world["sam"], world["mixed"], classification="crew_hourly"),
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_non_union_engagement_changes_nothing_for_union_engagements(world):
    client = api(world["alice"])
    first = client.post(
        "/api/v1/engagements/", engagement_body(world["nora"], world["mixed"]), format="json"
    )
    assert first.status_code == 201, first.content
    # Under SAG-AFTRA the classification rules hold exactly as for anybody else.
    refused = client.post(
        "/api/v1/engagements/",
        engagement_body(
            world["nora"], world["mixed"], agreement="sag-tvth-2023", classification="writer"
        ),
        format="json",
    )
    assert "sag-aftra's" in str(assert_error(refused, 400)["fields"]["classification"])
    union = client.post(
        "/api/v1/engagements/",
        engagement_body(world["nora"], world["mixed"], agreement="sag-tvth-2023", role="Lead"),
        format="json",
    )
    assert union.status_code == 201, union.content


def test_joining_a_guild_later_does_not_undo_a_non_union_engagement(world):
    engagement = EngagementFactory(
        person=world["nora"], production=world["indie"], agreement=agreement(NON_UNION)
    )
    MembershipFactory(person=world["nora"], guild=guild("sag-aftra"))
    client = api(world["alice"])
    url = f"/api/v1/engagements/{engagement.pk}/"
    assert client.patch(url, {"role": "Lead"}, format="json").status_code == 200
    # Moving it to another SAG-AFTRA classification is a new choice, checked again.
    moved = client.patch(url, {"classification": "weekly_performer"}, format="json")
    assert "sag-aftra member" in str(assert_error(moved, 400)["fields"]["agreement"])


def test_the_csv_import_engages_a_non_member_under_non_union(world):
    text = (
        "person_id,production,agreement,classification,rate_amount,rate_unit,start_date\n"
        f"{world['nora'].pk},{world['indie'].pk},{NON_UNION},stand_in,300.00,day,2025-06-02\n"
    )
    scope = Scope(studio_ids=frozenset({world["alpha"].pk}))
    created = engagement_import.engagement_import(actor=world["alice"], scope=scope, text=text)
    assert [e.agreement.code for e in created] == [NON_UNION]


def test_the_csv_preview_refuses_a_guild_member_under_non_union(world):
    MembershipFactory(person=world["sam"], guild=guild("sag-aftra"))
    text = (
        "person_id,production,agreement,classification,rate_amount,rate_unit,start_date\n"
        f"{world['sam'].pk},{world['indie'].pk},{NON_UNION},stand_in,300.00,day,2025-06-02\n"
    )
    scope = Scope(studio_ids=frozenset({world["alpha"].pk}))
    preview = engagement_import.engagement_import_preview(scope=scope, text=text)
    [row] = preview.error_rows
    assert [column for column, _ in row.errors] == ["agreement"]
    assert "sag-aftra member" in row.errors[0][1]


# --- the guild's scope never reaches non-union work ----------------------------------------


@pytest.fixture
def engaged(world):
    return {
        "indie": EngagementFactory(
            person=world["nora"], production=world["indie"], agreement=agreement(NON_UNION)
        ),
        "mixed_non_union": EngagementFactory(
            person=PersonFactory(legal_name="Pat Crew", registered_by=world["alpha"]),
            production=world["mixed"],
            agreement=agreement(NON_UNION),
            classification="crew_hourly",
        ),
        "mixed_sag": EngagementFactory(person=world["sam"], production=world["mixed"]),
    }


def test_guild_staff_never_see_non_union_engagements_through_their_scope(world, engaged):
    client = api(world["sally"])
    assert list_ids(client.get("/api/v1/engagements/")) == {engaged["mixed_sag"].pk}
    for name in ("indie", "mixed_non_union"):
        detail = client.get(f"/api/v1/engagements/{engaged[name].pk}/")
        assert_error(detail, 404)
    assert list_ids(client.get("/api/v1/productions/")) == {world["mixed"].pk}
    assert list_ids(client.get("/api/v1/people/")) == {world["sam"].pk}
    assert_error(client.get(f"/api/v1/productions/{world['indie'].pk}/"), 404)
    filtered = client.get("/api/v1/engagements/", {"agreement": NON_UNION})
    assert list_ids(filtered) == set()
    payables = {name: make_payable(engaged[name]) for name in engaged}
    assert list_ids(client.get("/api/v1/payables/")) == {payables["mixed_sag"].pk}
    studio_view = api(world["alice"]).get("/api/v1/payables/")
    assert list_ids(studio_view) == {p.pk for p in payables.values()}


def test_guild_staff_see_no_non_union_engagement_in_the_admin(world, engaged):
    page = _admin(world["sally"]).get(reverse("admin:ledger_engagement_changelist"))
    assert page.status_code == 200
    assert "Sam Member" in page.content.decode()
    assert "Nora Nonmember" not in page.content.decode()
    assert "Pat Crew" not in page.content.decode()
    for name in ("indie", "mixed_non_union"):
        url = reverse("admin:ledger_engagement_change", args=[engaged[name].pk])
        assert _admin(world["sally"]).get(url).status_code == 404


def test_studio_staff_see_their_non_union_work_as_usual(world, engaged):
    client = api(world["alice"])
    assert list_ids(client.get("/api/v1/engagements/")) == {e.pk for e in engaged.values()}
    assert list_ids(client.get("/api/v1/productions/")) == {world["indie"].pk, world["mixed"].pk}
    bravo = studio_staff(StudioFactory(name="Bravo", slug="bravo"), "bob")
    assert list_ids(api(bravo).get("/api/v1/engagements/")) == set()


# --- 3. agreements offered where in force --------------------------------------------------


def test_attaching_an_agreement_that_ended_before_the_production_warns_and_attaches(world):
    late = ProductionFactory(studio=world["alpha"], title="Late Show", start_date=date(2026, 8, 3))
    response = api(world["alice"]).post(
        f"/api/v1/productions/{late.pk}/attach/", {"agreement": "sag-tvth-2023"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["agreements"] == ["sag-tvth-2023"]
    assert [w["code"] for w in body["warnings"]] == ["agreement_not_in_force"]
    message = body["warnings"][0]["message"]
    assert "ended on 2026-06-30" in message and "sag-tvth-2026" in message
    assert ProductionAgreement.objects.filter(production=late).count() == 1
    assert_matches_schema(response, "POST", "/api/v1/productions/{id}/attach/")


def test_attaching_an_agreement_in_force_during_the_production_has_no_warning(world):
    client = api(world["alice"])
    production = world["indie"]  # 2025-06-02, open
    for code in ("sag-tvth-2023", "sag-tvth-2026", NON_UNION):
        response = client.post(
            f"/api/v1/productions/{production.pk}/attach/", {"agreement": code}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["warnings"] == [], code


def test_an_agreement_starting_after_the_production_ends_warns():
    production = ProductionFactory(start_date=date(2025, 1, 6), end_date=date(2025, 12, 19))
    warnings = services.production_attach_warnings(
        production=production, agreement=agreement("sag-tvth-2026")
    )
    assert [w.code for w in warnings] == ["agreement_not_in_force"]
    assert "starts on 2026-07-01" in warnings[0].message
    assert "sag-tvth-2023" in warnings[0].message


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _groups(page: str, select_name: str) -> list[tuple[str, list[str]]]:
    select = re.search(rf'<select name="{select_name}".*?</select>', page, re.S).group(0)
    return [
        (label, re.findall(r'<option value="\d+"[^>]*>([\w-]+) —', body))
        for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    ]


def test_the_admin_offers_agreements_in_force_during_the_production_first(world):
    late = ProductionFactory(studio=world["alpha"], title="Late Show", start_date=date(2026, 8, 3))
    page = _admin(world["alice"]).get(reverse("admin:ledger_production_change", args=[late.pk]))
    groups = _groups(page.content.decode(), "attach-agreement")
    assert [label for label, _ in groups] == [
        "In force during the production",
        "Not in force during the production (attaching warns)",
    ]
    assert set(groups[0][1]) == {"sag-tvth-2026", "wga-mba-2026", "iatse-basic-2024", NON_UNION}
    assert set(groups[1][1]) == {"sag-tvth-2023", "wga-mba-2023"}
    assert "sag-tvth-2026 — SAG-AFTRA TV/Theatrical (2026) (2026-07-01 – 2030-06-30)" in (
        page.content.decode()
    )


def test_the_admin_attach_shows_the_warning_and_attaches(world):
    late = ProductionFactory(studio=world["alpha"], title="Late Show", start_date=date(2026, 8, 3))
    response = _admin(world["alice"]).post(
        reverse("admin:ledger_production_attach", args=[late.pk]),
        {"attach-agreement": agreement("wga-mba-2023").pk},
        follow=True,
    )
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert ("success", "wga-mba-2023 is attached to Late Show.") in messages
    warning = [text for level, text in messages if level == "warning"]
    assert len(warning) == 1 and "ended on 2026-05-01" in warning[0]
    assert "wga-mba-2026" in warning[0]
    assert ProductionAgreement.objects.filter(production=late).exists()


def test_the_admin_attach_in_term_shows_no_warning(world):
    response = _admin(world["alice"]).post(
        reverse("admin:ledger_production_attach", args=[world["indie"].pk]),
        {"attach-agreement": agreement("wga-mba-2023").pk},
        follow=True,
    )
    assert [m.level_tag for m in response.context["messages"]] == ["success"]


def test_the_engagement_form_offers_only_agreements_it_may_be_under(world, engaged):
    client = _admin(world["alice"])
    add = client.get(reverse("admin:ledger_engagement_add")).content.decode()
    offered = {code for _, codes in _groups(add, "agreement") for code in codes}
    assert offered == {"sag-tvth-2023", NON_UNION}, "attached to the studio's productions"
    change = client.get(
        reverse("admin:ledger_engagement_change", args=[engaged["mixed_sag"].pk])
    ).content.decode()
    assert _groups(change, "agreement") == [
        ("In force on the start date", ["sag-tvth-2023", NON_UNION])
    ]


def test_the_engagement_form_records_a_non_union_engagement(world):
    response = _admin(world["alice"]).post(
        reverse("admin:ledger_engagement_add"),
        {
            "person": world["nora"].pk,
            "production": world["indie"].pk,
            "agreement": agreement(NON_UNION).pk,
            "classification": "background_actor",
            "role": "",
            "rate_amount": "250.00",
            "rate_unit": "day",
            "rate_currency": "USD",
            "start_date": "2025-06-02",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    engagement = Engagement.objects.get(person=world["nora"])
    assert engagement.agreement.code == NON_UNION
    assert engagement.history.get().history_user == world["alice"]
    assert Guild.objects.count() == 3


def test_a_rate_sheet_for_the_non_union_agreement_is_refused_not_a_server_error(world):
    sheet = "parameter,from,value\nsag.minimum.day_performer,2025-08-01,1300.00\n"
    response = load_sheet(api(world["sally"]), sheet, agreement=NON_UNION)
    body = assert_error(response, 400, "rate_sheet_invalid")
    assert "no union pay rules" in body["message"]
    assert not RateSheet.objects.exists()


def test_the_production_page_shows_the_non_union_agreement_without_guild_or_term(world):
    page = _admin(world["alice"]).get(
        reverse("admin:ledger_production_change", args=[world["mixed"].pk])
    )
    section = re.search(
        r'<div class="module" id="agreements">.*?</table>', page.content.decode(), re.S
    )
    rows = re.findall(r"<tr>\s*<td><code>([\w-]+)</code></td>.*?</tr>", section.group(0), re.S)
    assert rows == [NON_UNION, "sag-tvth-2023"]
    assert "<td>no guild (non-union)</td>\n        <td>always (no term)</td>" in section.group(0)
    assert "<td>2023-11-09 – 2026-06-30</td>" in section.group(0)
