"""The staff dashboard on /admin/: each production's numbers for a studio login and for guild
logins, each number's link to the rows behind it, and a query count that does not grow with
the number of productions.

The scenario, dated around the moment the test runs (the dashboard is "as of now"):

- Meridian's `The Long Light` works under SAG-AFTRA 2026 and WGA 2026. Hal (SAG) has no consent:
  one use three days ago and one planned in five days, both violations; Wes (WGA) was handed AI
  material with no disclosure (a violation); Ann's use is covered by a consent that ends in 10
  days (expiring); Eve's consent ends in 40 days, Dan's in 10 but is revoked (neither expiring).
  Payables: Ann 1,000 USD due 10 days ago with 400 paid, Eve 500 USD due in 20 days, Ann 300 CAD
  due yesterday, Wes 2,000 USD (WGA) due 5 days ago.
- Meridian's `Night Shift` (SAG): Cy's use yesterday, no consent (a violation).
- Northgate's `Harbor Nights` (SAG): Bob's use four days ago, no consent; Bo's consent ends in 5
  days; Bob is owed 200 USD, due 3 days ago.
- Reports: the film's own report two days ago, Meridian's studio report yesterday, SAG-AFTRA's
  guild report three days ago.
- Flags: SAG-AFTRA flagged the film and Hal's planned use, WGA flagged Wes's use; SAG-AFTRA's
  flag on Night Shift was resolved.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from compensation import selectors as compensation_selectors
from consent.models import AiUse, Consent
from consent.services import ai_use_record, consent_revoke
from ledger.access import Scope, scope_for
from ledger.journal.services import payable_create, payment_confirm
from reports import compliance
from reports.models import Report
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
    studio_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    compensation_selectors._parameters_cache.clear()
    yield
    compensation_selectors._parameters_cache.clear()


# --- reading the dashboard ------------------------------------------------------------------


class DashboardParser(HTMLParser):
    """{production pk: {measure: [(link text, href), ...]}} from the dashboard table, and the
    table's caption and header cells."""

    def __init__(self):
        super().__init__()
        self.rows, self.caption, self.col_headers = {}, "", 0
        self._row = self._measure = self._href = None
        self._in_table = self._in_caption = False
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "dashboard":
            self._in_table = True
        if not self._in_table:
            return
        if tag == "caption":
            self._in_caption = True
        elif tag == "th" and attrs.get("scope") == "col":
            self.col_headers += 1
        elif tag == "tr" and "data-production" in attrs:
            self._row = self.rows.setdefault(int(attrs["data-production"]), {})
        elif tag == "td" and "data-measure" in attrs and self._row is not None:
            self._measure = self._row.setdefault(attrs["data-measure"], [])
        elif tag == "a" and self._measure is not None:
            self._href, self._text = attrs["href"], ""

    def handle_endtag(self, tag):
        if tag == "table" and self._in_table:
            self._in_table = False
        elif tag == "caption":
            self._in_caption = False
        elif tag == "a" and self._href is not None:
            self._measure.append((self._text.strip(), self._href))
            self._href = None
        elif tag == "td":
            self._measure = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._in_caption:
            self.caption += data
        if self._href is not None:
            self._text += data


def dashboard_of(client, user) -> dict:
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    parser = DashboardParser()
    parser.feed(response.content.decode())
    return parser.rows


def texts(cell) -> list[str]:
    return [text for text, _href in cell]


def changelist_rows(client, href):
    """The rows a changelist link shows (every page), as the admin's ChangeList selects them."""
    response = client.get(href)
    assert response.status_code == 200, href
    return response.context["cl"].queryset


# --- the scenario ---------------------------------------------------------------------------


@pytest.fixture
def s():
    return build_scenario(timezone.now())


def build_scenario(now) -> SimpleNamespace:
    s = SimpleNamespace(now=now, today=now.date())
    s.clerk = UserFactory(username="clerk")
    s.meridian = StudioFactory(name="Meridian", slug="meridian")
    s.northgate = StudioFactory(name="Northgate", slug="northgate")
    start = s.today - timedelta(days=90)
    s.film = ProductionFactory(studio=s.meridian, title="The Long Light", start_date=start)
    s.night = ProductionFactory(studio=s.meridian, title="Night Shift", start_date=start)
    s.harbor = ProductionFactory(studio=s.northgate, title="Harbor Nights", start_date=start)
    sag, wga = agreement("sag-tvth-2026"), agreement("wga-mba-2026")
    s.studio_user = studio_staff(s.meridian, "meridian-staff")
    s.sag_user = guild_staff("sag-aftra", "sag-staff")
    s.wga_user = guild_staff("wga", "wga-staff")

    def engage(production, name, on=sag, **fields):
        values = dict(classification="day_performer", rate_amount=Decimal("1500.00"))
        if on == wga:
            values = dict(classification="writer", rate_amount=Decimal("5000.00"), rate_unit="week")
        values.update(fields)
        return EngagementFactory(
            production=production,
            person=PersonFactory(legal_name=name, registered_by=production.studio),
            agreement=on,
            start_date=start,
            **values,
        )

    def consent(engagement, days_left):
        signed = now - timedelta(days=30)
        return grant_consent(
            engagement,
            actor=s.clerk,
            kind="replica_use",
            signed_at=signed,
            notice_at=signed,
            term_from=signed.date(),
            term_to=s.today + timedelta(days=days_left),
        )

    def use(engagement, days_from_now, kind="replica_use", **fields):
        if kind == "replica_use":
            fields.setdefault("days", Decimal("1"))
        return ai_use_record(
            actor=s.clerk,
            scope=Scope(superuser=True),
            production=engagement.production,
            person=engagement.person,
            kind=kind,
            starts_at=now + timedelta(days=days_from_now),
            description=f"{kind} in the night scenes",
            **fields,
        )

    def owe(engagement, amount, currency, due_in_days, key):
        return payable_create(
            actor=s.clerk,
            production=engagement.production,
            person=engagement.person,
            engagement=engagement,
            rule="sag.pay.day" if engagement.agreement == sag else "wga.pay.week",
            description=f"Pay of {engagement.person.legal_name}",
            amount=Decimal(amount),
            currency=currency,
            period_from=s.today - timedelta(days=40),
            period_to=s.today - timedelta(days=30),
            due_date=s.today + timedelta(days=due_in_days),
            source_type="test",
            source_id=key,
        )

    # --- The Long Light ---
    s.ann, s.eve, s.dan, s.hal = (engage(s.film, n) for n in ("Ann", "Eve", "Dan", "Hal"))
    s.wes = engage(s.film, "Wes", on=wga)
    s.ann_consent = consent(s.ann, 10)
    s.eve_consent = consent(s.eve, 40)
    s.dan_consent = consent(s.dan, 10)
    consent_revoke(actor=s.clerk, consent=s.dan_consent, reason="Withdrawn.", at=now)
    s.ann_use = use(s.ann, -5)
    s.hal_past = use(s.hal, -3)
    s.hal_planned = use(s.hal, 5)
    s.wes_use = use(s.wes, -2, "writer_ai_use", material_handed_over=True)
    ann_usd = owe(s.ann, "1000.00", "USD", -10, "ann-usd")
    owe(s.eve, "500.00", "USD", 20, "eve-usd")
    owe(s.ann, "300.00", "CAD", -1, "ann-cad")
    owe(s.wes, "2000.00", "USD", -5, "wes-usd")
    payment_confirm(
        actor=s.clerk,
        client="user:clerk",
        idempotency_key="pay-ann",
        payable=ann_usd,
        amount=Decimal("400.00"),
        paid_at=now - timedelta(days=1),
        payroll_reference="PAY-ANN-1",
        render=lambda payment: {"id": payment.pk},
    )

    # --- Night Shift ---
    s.cy = engage(s.night, "Cy")
    s.cy_use = use(s.cy, -1)

    # --- Harbor Nights ---
    s.bob, s.bo = engage(s.harbor, "Bob"), engage(s.harbor, "Bo")
    s.bob_use = use(s.bob, -4)
    s.bo_consent = consent(s.bo, 5)
    owe(s.bob, "200.00", "USD", -3, "bob-usd")

    # --- reports ---
    def report(target, days_ago):
        made, _ = report_generate(
            target=compliance.Target.of(target),
            period_from=s.today - timedelta(days=30),
            period_to=s.today - timedelta(days=1),
            origin=Report.Origin.ON_DEMAND,
            actor=s.clerk,
            as_of=now - timedelta(days=days_ago),
        )
        return made

    s.film_report = report(s.film, 2)
    s.studio_report = report(s.meridian, 1)
    s.sag_report = report(guild("sag-aftra"), 3)

    # --- flags ---
    sag_scope, wga_scope = scope_for(s.sag_user), scope_for(s.wga_user)
    s.film_flag = flag_raise(actor=s.sag_user, scope=sag_scope, target=s.film, note="Scan terms?")
    s.hal_flag = flag_raise(
        actor=s.sag_user, scope=sag_scope, target=s.hal_planned, note="No consent for Hal."
    )
    s.wes_flag = flag_raise(
        actor=s.wga_user, scope=wga_scope, target=s.wes_use, note="Disclosure missing."
    )
    night_flag = flag_raise(actor=s.sag_user, scope=sag_scope, target=s.night, note="Check.")
    flag_resolve(
        actor=s.studio_user, scope=scope_for(s.studio_user), flag=night_flag, note="Checked."
    )
    return s


# --- the numbers ----------------------------------------------------------------------------


def test_studio_staff_see_their_productions_numbers(client, s):
    rows = dashboard_of(client, s.studio_user)
    assert set(rows) == {s.film.pk, s.night.pk}
    film, night = rows[s.film.pk], rows[s.night.pk]
    assert {key: texts(film[key]) for key in film} == {
        "violations": ["3"],
        "pending_consents": ["1"],
        "expiring_consents": ["1"],
        "owed": ["300.00 CAD", "3500.00 USD"],
        "paid": ["400.00 USD"],
        "overdue": ["300.00 CAD", "2600.00 USD"],
        "last_report": [f"{s.studio_report.generated_at:%Y-%m-%d} (studio)"],
        "flags": ["3"],
    }
    assert {key: texts(night[key]) for key in night} == {
        "violations": ["1"],
        "pending_consents": ["0"],
        "expiring_consents": ["0"],
        "owed": ["none"],
        "paid": ["none"],
        "overdue": ["none"],
        "last_report": [f"{s.studio_report.generated_at:%Y-%m-%d} (studio)"],
        "flags": ["0"],
    }


def test_the_numbers_equal_counts_made_another_way(client, s):
    """The studio's counts, recomputed with plain queries and the consent's own status."""
    rows = dashboard_of(client, s.studio_user)
    for production in (s.film, s.night):
        uses = AiUse.objects.filter(production=production, status="violation")
        expiring = [
            c
            for c in Consent.objects.filter(production=production)
            if c.term_to
            and s.today <= c.term_to <= s.today + timedelta(days=30)
            and c.events.filter(kind="revoked").count() == 0
        ]
        assert texts(rows[production.pk]["violations"]) == [str(uses.count())]
        pending = uses.filter(starts_at__gt=timezone.now()).count()
        assert texts(rows[production.pk]["pending_consents"]) == [str(pending)]
        assert texts(rows[production.pk]["expiring_consents"]) == [str(len(expiring))]


def test_a_guild_sees_its_productions_across_studios_and_only_its_share(client, s):
    sag = dashboard_of(client, s.sag_user)
    assert set(sag) == {s.film.pk, s.night.pk, s.harbor.pk}
    film, harbor = sag[s.film.pk], sag[s.harbor.pk]
    assert texts(film["violations"]) == ["2"]  # Hal's two; Wes's is WGA's
    assert texts(film["pending_consents"]) == ["1"]
    assert texts(film["owed"]) == ["300.00 CAD", "1500.00 USD"]
    assert texts(film["overdue"]) == ["300.00 CAD", "600.00 USD"]
    assert texts(film["flags"]) == ["2"]
    sag_report = [f"{s.sag_report.generated_at:%Y-%m-%d} (guild)"]
    assert texts(film["last_report"]) == sag_report
    assert texts(harbor["violations"]) == ["1"]
    assert texts(harbor["expiring_consents"]) == ["1"]
    assert texts(harbor["overdue"]) == ["200.00 USD"]
    assert texts(harbor["last_report"]) == sag_report

    wga = dashboard_of(client, s.wga_user)
    assert set(wga) == {s.film.pk}
    film = wga[s.film.pk]
    assert texts(film["violations"]) == ["1"]
    assert texts(film["pending_consents"]) == ["0"]
    assert texts(film["expiring_consents"]) == ["0"]
    assert texts(film["owed"]) == ["2000.00 USD"]
    assert texts(film["paid"]) == ["none"]
    assert texts(film["overdue"]) == ["2000.00 USD"]
    assert texts(film["flags"]) == ["1"]
    assert texts(film["last_report"]) == ["none yet"]


def test_the_administrator_sees_every_production(client, s):
    admin = UserFactory(username="root", is_superuser=True)
    rows = dashboard_of(client, admin)
    assert set(rows) == {s.film.pk, s.night.pk, s.harbor.pk}
    assert texts(rows[s.film.pk]["violations"]) == ["3"]
    assert texts(rows[s.film.pk]["last_report"]) == [
        f"{s.studio_report.generated_at:%Y-%m-%d} (studio)"
    ]


def test_the_table_is_described_for_assistive_technology(client, s):
    client.force_login(s.studio_user)
    page = client.get("/admin/").content.decode()
    parser = DashboardParser()
    parser.feed(page)
    assert "compliance state" in parser.caption
    assert parser.col_headers == 10  # production, studio and the eight measures
    assert page.count('<th scope="row">') == 2
    assert "reports/guild-ledger.css" in page


def test_a_login_with_no_scope_sees_no_dashboard(client, s):
    client.force_login(UserFactory(username="nobody"))
    assert 'id="dashboard"' not in client.get("/admin/").content.decode()


# --- every number leads to its rows ---------------------------------------------------------


def _ids(qs) -> set:
    return set(qs.values_list("pk", flat=True))


@pytest.mark.parametrize("login", ["studio_user", "sag_user", "wga_user"])
def test_each_count_links_to_exactly_its_rows(client, s, login):
    user = getattr(s, login)
    rows = dashboard_of(client, user)
    scope = scope_for(user)
    for pk, cells in rows.items():
        violations = AiUse.objects.filter(production_id=pk, status="violation")
        if login == "sag_user":
            violations = violations.filter(agreement__guild__code="sag-aftra")
        elif login == "wga_user":
            violations = violations.filter(agreement__guild__code="wga")
        expected = {
            "violations": _ids(violations),
            "pending_consents": _ids(violations.filter(starts_at__gt=timezone.now())),
        }
        for key, want in expected.items():
            [(text, href)] = cells[key]
            assert _ids(changelist_rows(client, href)) == want, (login, key)
            assert text == str(len(want))
        [(text, href)] = cells["expiring_consents"]
        shown = changelist_rows(client, href)
        assert len(shown) == int(text)
        assert all(s.today <= c.term_to <= s.today + timedelta(days=30) for c in shown)
        assert {c.production_id for c in shown} <= {pk}
        [(text, href)] = cells["flags"]
        shown = changelist_rows(client, href)
        assert {f.subject_production_id for f in shown} <= {pk}
        assert all(f.resolved_at is None for f in shown) and len(shown) == int(text)
        [(_text, href)] = cells["last_report"]
        assert client.get(href).status_code == 200
    assert scope is not None


def test_the_expiring_and_flag_links_name_the_expected_records(client, s):
    rows = dashboard_of(client, s.studio_user)
    [(_, href)] = rows[s.film.pk]["expiring_consents"]
    assert _ids(changelist_rows(client, href)) == {s.ann_consent.pk}
    [(_, href)] = rows[s.film.pk]["flags"]
    assert _ids(changelist_rows(client, href)) == {s.film_flag.pk, s.hal_flag.pk, s.wes_flag.pk}
    rows = dashboard_of(client, s.sag_user)
    [(_, href)] = rows[s.harbor.pk]["expiring_consents"]
    assert _ids(changelist_rows(client, href)) == {s.bo_consent.pk}
    [(_, href)] = rows[s.film.pk]["flags"]
    assert _ids(changelist_rows(client, href)) == {s.film_flag.pk, s.hal_flag.pk}


AMOUNT = {"owed": "owed_amount", "paid": "paid_amount", "overdue": "due_amount"}


@pytest.mark.parametrize("login", ["studio_user", "sag_user", "wga_user"])
def test_each_amount_links_to_the_payables_that_add_up_to_it(client, s, login):
    rows = dashboard_of(client, getattr(s, login))
    for pk, cells in rows.items():
        for key, column in AMOUNT.items():
            for text, href in cells[key]:
                payables = changelist_rows(client, href)
                assert {p.production_id for p in payables} <= {pk}
                if text == "none":
                    assert sum(getattr(p, column) for p in payables) == 0, (login, key)
                    continue
                amount, currency = text.split()
                assert {p.currency for p in payables} == {currency}
                assert sum(getattr(p, column) for p in payables) == Decimal(amount), (login, key)
                if key == "overdue":
                    assert all(p.due_date < s.today for p in payables)


# --- the query count does not grow with the number of productions ---------------------------


def _add_productions(studio, count, clerk, now, start):
    sag = agreement("sag-tvth-2026")
    for n in range(count):
        production = ProductionFactory(studio=studio, title=f"Series {start + n:03d}")
        engagement = EngagementFactory(
            production=production,
            person=PersonFactory(legal_name=f"Player {start + n}", registered_by=studio),
            agreement=sag,
        )
        ai_use_record(
            actor=clerk,
            scope=Scope(superuser=True),
            production=production,
            person=engagement.person,
            kind="replica_use",
            starts_at=now - timedelta(days=2),
            description="replica use",
            days=Decimal("1"),
        )
        payable_create(
            actor=clerk,
            production=production,
            person=engagement.person,
            engagement=engagement,
            rule="sag.pay.day",
            description="Day pay",
            amount=Decimal("100.00"),
            currency="USD" if n % 2 else "CAD",
            period_from=now.date() - timedelta(days=20),
            period_to=now.date() - timedelta(days=10),
            due_date=now.date() - timedelta(days=1),
            source_type="test",
            source_id=f"bulk-{start + n}",
        )


@pytest.mark.parametrize("login", ["studio", "guild"])
def test_the_query_count_does_not_grow_with_the_productions(
    client, django_assert_max_num_queries, login
):
    now = timezone.now()
    clerk = UserFactory(username="clerk")
    studio = StudioFactory(name="Big Studio", slug="big")
    user = studio_staff(studio, "big-staff") if login == "studio" else guild_staff("sag-aftra", "g")
    _add_productions(studio, 5, clerk, now, 0)
    client.force_login(user)
    client.get("/admin/")  # the session and content types are warm from here on
    with CaptureQueriesContext(connection) as five:
        page = client.get("/admin/").content.decode()
    assert page.count("data-production=") == 5
    _add_productions(studio, 45, clerk, now, 5)
    with django_assert_max_num_queries(len(five.captured_queries)):
        page = client.get("/admin/").content.decode()
    assert page.count("data-production=") == 50
    per_production = defaultdict(int)
    parser = DashboardParser()
    parser.feed(page)
    for cells in parser.rows.values():
        per_production[tuple(texts(cells["violations"]))] += 1
    assert per_production == {("1",): 50}
