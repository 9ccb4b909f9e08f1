"""Flags for follow-up: who may raise them (staff of a guild whose agreements cover what is
flagged) and resolve them (studio staff of the production's studio, or the guild), from the
pages of what is flagged; the flags on both sides' dashboards; and the compliance report's
"flagged for follow-up" section.

Meridian's `The Long Light` works under SAG-AFTRA 2026: Ann has a consent and a use, Hal a use
with no consent, and a computed run has a line for Ann. Northgate's `Harbor Nights` works under
WGA only.
"""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from compensation.models import CompensationLine, CompensationRun
from consent.services import ai_use_record
from core.errors import DomainError, NotFound
from ledger.access import Scope, scope_for
from reports import compliance, render
from reports.models import Flag, Report
from reports.services import flag_raise, flag_resolve, report_generate
from tests.factories import (
    EngagementFactory,
    PersonFactory,
    ProductionFactory,
    StudioFactory,
    UserFactory,
    agreement,
    grant_consent,
    guild,
    guild_staff,
    payroll_key,
    studio_staff,
)

pytestmark = pytest.mark.django_db

FLAG_LINK = "Flag for follow-up"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def s():
    now = timezone.now()
    s = SimpleNamespace(now=now)
    s.clerk = UserFactory(username="clerk")
    s.meridian = StudioFactory(name="Meridian", slug="meridian")
    s.northgate = StudioFactory(name="Northgate", slug="northgate")
    start = now.date() - timedelta(days=60)
    s.film = ProductionFactory(studio=s.meridian, title="The Long Light", start_date=start)
    s.harbor = ProductionFactory(studio=s.northgate, title="Harbor Nights", start_date=start)
    sag = agreement("sag-tvth-2026")
    s.ann, s.hal = (
        EngagementFactory(
            production=s.film,
            person=PersonFactory(legal_name=name, registered_by=s.meridian),
            agreement=sag,
            start_date=start,
        )
        for name in ("Ann", "Hal")
    )
    EngagementFactory(
        production=s.harbor,
        person=PersonFactory(legal_name="Zed", registered_by=s.northgate),
        agreement=agreement("wga-mba-2026"),
        classification="writer",
        rate_unit="week",
        start_date=start,
    )
    signed = now - timedelta(days=20)
    s.consent = grant_consent(
        s.ann,
        actor=s.clerk,
        kind="replica_use",
        signed_at=signed,
        notice_at=signed,
        term_from=signed.date(),
    )
    s.use = ai_use_record(
        actor=s.clerk,
        scope=Scope(superuser=True),
        production=s.film,
        person=s.hal.person,
        kind="replica_use",
        starts_at=now - timedelta(days=2),
        description="replica use in the finale",
        days=Decimal("1"),
    )
    run = CompensationRun.objects.create(
        production=s.film,
        period_from=start,
        period_to=start + timedelta(days=6),
        due_date=start + timedelta(days=20),
        status=CompensationRun.Status.COMPUTED,
        started_by=s.clerk,
        started_at=now,
    )
    s.line = CompensationLine.objects.create(
        run=run,
        engagement=s.ann,
        rule="sag.pay.day",
        description="Day pay",
        date=start,
        quantity=Decimal("1"),
        unit="day",
        rate=Decimal("1500"),
        amount=Decimal("1500.00"),
        currency="USD",
    )
    s.studio_user = studio_staff(s.meridian, "meridian-staff")
    s.other_studio_user = studio_staff(s.northgate, "northgate-staff")
    s.sag_user = guild_staff("sag-aftra", "sag-staff")
    s.wga_user = guild_staff("wga", "wga-staff")
    return s


def raise_flag(s, target, note="Look again at this.", user=None):
    user = user or s.sag_user
    return flag_raise(actor=user, scope=scope_for(user), target=target, note=note)


# --- raising --------------------------------------------------------------------------------


def test_guild_staff_flag_a_production_from_its_page(client, s):
    client.force_login(s.sag_user)
    page = client.get(f"/admin/ledger/production/{s.film.pk}/change/").content.decode()
    add_url = f"/admin/reports/flag/add/?production={s.film.pk}"
    assert f'<a href="{add_url}" class="gl-flag-link">{FLAG_LINK}</a>' in page
    form = client.get(add_url).content.decode()
    assert '<textarea name="note"' in form
    assert '<label class="required" for="id_note">Note:</label>' in form
    assert 'value="Save"' in form
    response = client.post(
        add_url, {"production": s.film.pk, "note": "Were the scan terms explained?", "_save": "1"}
    )
    assert response.status_code == 302
    flag = Flag.objects.get()
    assert (flag.production, flag.guild, flag.raised_by) == (s.film, guild("sag-aftra"), s.sag_user)
    assert flag.note == "Were the scan terms explained?" and flag.is_open
    assert flag.history.get().history_user == s.sag_user
    listing = client.get("/admin/reports/flag/").content.decode()
    assert "Were the scan terms explained?" in listing


@pytest.mark.parametrize(
    ("target", "page", "field"),
    [
        ("consent", "/admin/consent/consent/{}/change/", "consent"),
        ("use", "/admin/consent/aiuse/{}/change/", "ai_use"),
        ("line", "/admin/compensation/compensationline/{}/change/", "line"),
    ],
)
def test_consents_uses_and_lines_are_flagged_from_their_pages(client, s, target, page, field):
    obj = getattr(s, target)
    client.force_login(s.sag_user)
    add_url = f"/admin/reports/flag/add/?{field}={obj.pk}"
    assert f'href="{add_url}"' in client.get(page.format(obj.pk)).content.decode()
    response = client.post(add_url, {field: obj.pk, "note": "Please check.", "_save": "1"})
    assert response.status_code == 302
    flag = Flag.objects.get()
    assert flag.target == obj and flag.target_kind == field
    assert flag.production_id is None


def test_studio_staff_and_administrators_do_not_raise_flags(client, s):
    for user in (s.studio_user, UserFactory(username="root", is_superuser=True)):
        client.force_login(user)
        page = client.get(f"/admin/ledger/production/{s.film.pk}/change/").content.decode()
        assert FLAG_LINK not in page
        with pytest.raises(DomainError) as refused:
            raise_flag(s, s.film, user=user)
        assert (refused.value.code, refused.value.status_code) == ("guild_staff_only", 403)
    client.force_login(s.studio_user)
    response = client.post(
        f"/admin/reports/flag/add/?production={s.film.pk}",
        {"production": s.film.pk, "note": "Mine."},
    )
    assert response.status_code == 403
    assert not Flag.objects.exists()


def test_a_guild_cannot_flag_what_its_agreements_do_not_cover(client, s):
    """WGA has no agreement on the film: to WGA staff it does not exist."""
    for target in (s.film, s.consent, s.use, s.line):
        with pytest.raises(NotFound):
            raise_flag(s, target, user=s.wga_user)
    with pytest.raises(NotFound):
        raise_flag(s, s.harbor)  # SAG-AFTRA has no agreement on Harbor Nights
    client.force_login(s.wga_user)
    response = client.post(
        f"/admin/reports/flag/add/?production={s.film.pk}",
        {"production": s.film.pk, "note": "Not ours."},
    )
    assert response.status_code == 200
    assert "Not found." in response.content.decode()
    assert not Flag.objects.exists()


def test_a_flag_needs_a_note_and_nothing_is_written_without_one(client, s):
    client.force_login(s.sag_user)
    url = f"/admin/reports/flag/add/?production={s.film.pk}"
    response = client.post(url, {"production": s.film.pk, "note": "   "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    with pytest.raises(DomainError) as refused:
        raise_flag(s, s.film, note=" ")
    assert refused.value.fields == {"note": "Required."}
    response = client.post("/admin/reports/flag/add/", {"note": "About nothing."})
    assert "Flag for follow-up" in response.content.decode()  # the error says how to flag
    assert not Flag.objects.exists()


def test_the_database_holds_a_flag_to_exactly_one_target(s):
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            production=s.film,
            consent=s.consent,
            note="Two at once.",
            guild=guild("sag-aftra"),
            raised_by=s.sag_user,
            created_at=timezone.now(),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            note="About nothing.",
            guild=guild("sag-aftra"),
            raised_by=s.sag_user,
            created_at=timezone.now(),
        )


# --- resolving ------------------------------------------------------------------------------


def test_studio_staff_of_the_production_resolve_a_flag_in_the_admin(client, s):
    flag = raise_flag(s, s.use)
    client.force_login(s.studio_user)
    url = f"/admin/reports/flag/{flag.pk}/change/"
    page = client.get(url).content.decode()
    assert '<textarea name="resolution_note"' in page
    response = client.post(url, {"resolution_note": "", "_save": "1"})
    assert response.status_code == 200 and "Required." in response.content.decode()
    flag.refresh_from_db()
    assert flag.is_open
    response = client.post(url, {"resolution_note": "Consent obtained.", "_save": "1"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.resolved_by, flag.resolution_note) == (s.studio_user, "Consent obtained.")
    assert flag.history.latest().history_user == s.studio_user
    assert '<textarea name="resolution_note"' not in client.get(url).content.decode()


def test_the_raising_guild_resolves_and_others_cannot_see_the_flag(client, s):
    flag = raise_flag(s, s.film)
    for outsider in (s.other_studio_user, s.wga_user):
        client.force_login(outsider)
        assert client.get(f"/admin/reports/flag/{flag.pk}/change/").status_code == 404
        with pytest.raises(NotFound):
            flag_resolve(actor=outsider, scope=scope_for(outsider), flag=flag, note="Done.")
    key, _raw = payroll_key(s.meridian)
    with pytest.raises(NotFound):
        flag_resolve(
            actor=s.clerk,
            scope=Scope(studio_ids=frozenset({s.meridian.pk}), payroll_key=key),
            flag=flag,
            note="x",
        )
    resolved = flag_resolve(actor=s.sag_user, scope=scope_for(s.sag_user), flag=flag, note="Done.")
    assert resolved.resolved_by == s.sag_user and not resolved.is_open
    again = flag_resolve(
        actor=s.studio_user, scope=scope_for(s.studio_user), flag=flag, note="Twice."
    )
    assert (again.resolved_by, again.resolution_note) == (s.sag_user, "Done.")
    assert flag.history.count() == 2


# --- on both dashboards ---------------------------------------------------------------------


def flags_cell(client, user, production) -> str:
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    row = page.split(f'data-production="{production.pk}"', 1)[1].split("</tr>", 1)[0]
    cell = row.split('data-measure="flags"', 1)[1].split("</td>", 1)[0]
    return cell.split(">", 2)[2].split("<", 1)[0]


def test_flags_appear_on_the_studios_and_the_guilds_dashboards(client, s):
    flag = raise_flag(s, s.film)
    raise_flag(s, s.line)
    assert flags_cell(client, s.studio_user, s.film) == "2"
    assert flags_cell(client, s.sag_user, s.film) == "2"
    flag_resolve(actor=s.studio_user, scope=scope_for(s.studio_user), flag=flag, note="Done.")
    assert flags_cell(client, s.studio_user, s.film) == "1"
    assert flags_cell(client, s.sag_user, s.film) == "1"


# --- in the next compliance report ----------------------------------------------------------


def generate(target, as_of):
    report, _ = report_generate(
        target=compliance.Target.of(target),
        period_from=as_of.date() - timedelta(days=7),
        period_to=as_of.date(),
        origin=Report.Origin.ON_DEMAND,
        actor=UserFactory(username="officer"),
        as_of=as_of,
    )
    return report


def flagged(report) -> dict:
    data = json.loads(report.content)
    return next(sec for sec in data["sections"] if sec["key"] == "flagged_for_follow_up")


def test_a_report_made_after_raising_lists_the_open_flags(s):
    before = timezone.now()
    on_use = raise_flag(s, s.use, note="Hal never consented.")
    on_film = raise_flag(s, s.film, note="Scan terms?")
    flag_resolve(actor=s.studio_user, scope=scope_for(s.studio_user), flag=on_film, note="Done.")
    report = generate(s.film, timezone.now())
    section = flagged(report)
    assert section["title"] == "Flagged for follow-up" and section["count"] == 1
    [row] = section["rows"]
    assert (row["rule"], row["object"], row["id"]) == ("guild.follow_up", "flag", on_use.pk)
    assert (row["production"], row["person"]) == ("The Long Light", "Hal")
    assert "Hal never consented." in row["detail"] and "SAG-AFTRA" in row["detail"]
    assert report.counts["flagged_for_follow_up"] == 1
    csv_rows = list(csv.DictReader(io.StringIO(render.csv_text(report))))
    assert [r["id"] for r in csv_rows if r["section"] == "flagged_for_follow_up"] == [
        str(on_use.pk)
    ]
    assert "Flagged for follow-up" in render.html(report)

    # Made as of a moment before the flags were raised, the report finds none; the studio's
    # report finds the open one, and so does SAG-AFTRA's, but not WGA's.
    assert flagged(generate(s.film, before))["count"] == 0
    assert {r["id"] for r in flagged(generate(s.meridian, timezone.now()))["rows"]} == {on_use.pk}
    assert flagged(generate(guild("sag-aftra"), timezone.now()))["count"] == 1
    assert flagged(generate(guild("wga"), timezone.now()))["count"] == 0
    assert flagged(generate(s.harbor, timezone.now()))["count"] == 0
