"""The charts: inline SVG that parses as XML, says its data in words and is scoped like the
dashboard's table; drawn on the dashboard and in the compliance report's HTML and PDF, from the
rows the stored report holds (its stored content does not change).

The dashboard scenario is tests/reports/test_dashboard.py's, made at a fixed moment in the middle
of a month (16 November 2026, noon UTC) so that every dated fact falls in a known month:
Meridian (the studio login) has 2,600.00 USD past due 1-30 days late (Ann's 600 of 1,000 ten days
late, Wes's 2,000 five days late) and 300.00 CAD one day late; Northgate's Bob is owed 200.00 USD
three days late, which Meridian must not see.
"""

import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.utils import timezone

from reports import charts, compliance, render
from reports.dashboard import age_buckets, month_starts
from reports.models import Report
from reports.services import report_generate
from tests.reports.test_dashboard import build_scenario

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def words(root: ET.Element) -> tuple[str, str]:
    """(title, description) of a chart."""
    return root.find(f"{SVG}title").text, root.find(f"{SVG}desc").text


# --- the drawing ----------------------------------------------------------------------------


def test_a_bar_chart_is_well_formed_and_says_its_buckets_in_words():
    svg = charts.bar_chart(
        "Past due by age (USD)",
        [
            ("1-30 days late", Decimal("2600.00")),
            ("31-60 days late", Decimal("0")),
            ("61-90 days late", Decimal("12345.50")),
            ("over 90 days late", Decimal("0")),
        ],
        "USD",
    )
    root = parse(svg)
    assert root.get("role") == "img"
    title, desc = words(root)
    assert title == "Past due by age (USD)"
    assert desc == (
        "1-30 days late: 2,600.00 USD; 31-60 days late: 0.00 USD; "
        "61-90 days late: 12,345.50 USD; over 90 days late: 0.00 USD"
    )
    assert root.get("aria-label") == f"{title}. {desc}"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "1-30 days late" in texts and "over 90 days late" in texts
    assert "12,345.50 USD" in texts
    # The axis reaches the largest value: its top tick is 15,000, not below the tallest bar.
    assert "15,000.00 USD" in texts
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = [float(r.get("height")) for r in bars]
    assert heights[1] == heights[3] == 0
    assert heights[2] / heights[0] == pytest.approx(12345.5 / 2600, rel=0.01)
    assert max(float(r.get("y")) for r in bars) <= charts.HEIGHT - charts.BOTTOM


def test_a_chart_escapes_what_it_is_given():
    root = parse(charts.bar_chart("R&D <cuts>", [("A & B", Decimal("3"))], "violations"))
    assert words(root) == ("R&D <cuts>", "A & B: 3 violations")


def test_a_line_chart_draws_each_series_with_its_legend_and_words():
    months = [date(2026, m, 1) for m in (9, 10, 11)]
    svg = charts.line_chart(
        "The Long Light: owed and paid (USD)",
        {
            "Owed": [(d, Decimal(v)) for d, v in zip(months, ("0", "1500", "3500"), strict=True)],
            "Paid": [(d, Decimal(v)) for d, v in zip(months, ("0", "0", "400"), strict=True)],
        },
        "USD",
    )
    root = parse(svg)
    assert root.get("role") == "img"
    title, desc = words(root)
    assert title == "The Long Light: owed and paid (USD)"
    assert desc == (
        "Owed: Sep 2026 0.00 USD, Oct 2026 1,500.00 USD, Nov 2026 3,500.00 USD; "
        "Paid: Sep 2026 0.00 USD, Oct 2026 0.00 USD, Nov 2026 400.00 USD"
    )
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert lines[0].get("stroke") != lines[1].get("stroke")  # told apart by colour...
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")  # ...and in grey
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Owed", "Paid", "Sep 2026", "Nov 2026"} <= set(texts)


def test_an_empty_chart_still_parses_and_says_so():
    line = parse(charts.line_chart("Nothing", {}, "USD"))
    assert words(line) == ("Nothing", "no data")
    assert "No data" in [t.text for t in line.iter(f"{SVG}text")]
    assert words(parse(charts.bar_chart("Nothing", [], "violations"))) == ("Nothing", "no data")


def test_age_buckets_split_at_their_edges_per_currency():
    found = age_buckets(
        [
            (1, "USD", Decimal("1")),
            (30, "USD", Decimal("2")),
            (31, "USD", Decimal("4")),
            (60, "USD", Decimal("8")),
            (61, "USD", Decimal("16")),
            (90, "USD", Decimal("32")),
            (91, "USD", Decimal("64")),
            (400, "CAD", Decimal("5.50")),
        ]
    )
    assert found == {
        "CAD": [
            ("1-30 days late", Decimal("0.00")),
            ("31-60 days late", Decimal("0.00")),
            ("61-90 days late", Decimal("0.00")),
            ("over 90 days late", Decimal("5.50")),
        ],
        "USD": [
            ("1-30 days late", Decimal("3.00")),
            ("31-60 days late", Decimal("12.00")),
            ("61-90 days late", Decimal("48.00")),
            ("over 90 days late", Decimal("64.00")),
        ],
    }


def test_month_starts_cross_the_year():
    assert month_starts(date(2026, 2, 20), 3, 2) == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]


# --- the dashboard --------------------------------------------------------------------------


class ChartParser(HTMLParser):
    """The dashboard's charts: [(title, description)] and the production of each owed-and-paid
    chart."""

    def __init__(self):
        super().__init__()
        self.charts: list[tuple[str, str]] = []
        self.productions: list[int] = []
        self._in, self._svg, self._tag, self._title, self._desc = False, False, None, "", ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and attrs.get("id") == "dashboard-charts":
            self._in = True
        if not self._in:
            return
        if tag == "figure" and "data-chart-production" in attrs:
            self.productions.append(int(attrs["data-chart-production"]))
        if tag == "svg" and attrs.get("class") == "gl-chart":
            assert attrs.get("role") == "img"
            self._svg, self._title, self._desc = True, "", ""
        if tag in ("title", "desc") and self._svg:
            self._tag = tag

    def handle_endtag(self, tag):
        if tag in ("title", "desc"):
            self._tag = None
        elif tag == "svg" and self._svg:
            self.charts.append((self._title, self._desc))
            self._svg = False

    def handle_data(self, data):
        if self._tag == "title" and not self._title:
            self._title = data
        elif self._tag == "desc" and not self._desc:
            self._desc = data


@pytest.fixture
def s(db):
    with time_machine.travel(NOW, tick=False):
        yield build_scenario(timezone.now())


def dashboard_charts(client, user) -> tuple[dict[str, str], ChartParser, str]:
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    page = response.content.decode()
    parser = ChartParser()
    parser.feed(page)
    return dict(parser.charts), parser, page


def test_studio_staff_see_the_charts_of_their_own_productions_only(client, s):
    found, parser, page = dashboard_charts(client, s.studio_user)
    assert found["Past due by age (USD)"] == (
        "1-30 days late: 2,600.00 USD; 31-60 days late: 0.00 USD; "
        "61-90 days late: 0.00 USD; over 90 days late: 0.00 USD"
    )
    assert found["Past due by age (CAD)"].startswith("1-30 days late: 300.00 CAD;")
    # Violations by the month each use starts in: Hal's two, Wes's and Cy's (not Northgate's Bob).
    violations = found["Violations per month (last 12 months)"]
    assert violations.startswith("Dec 2025: 0 violations;")
    assert violations.endswith("Oct 2026: 0 violations; Nov 2026: 4 violations")
    # Ann's consent ends this month, Eve's next month; Dan's is revoked, Bo's is Northgate's.
    assert found["Consents expiring per month (next 6 months)"] == (
        "Nov 2026: 1 consent; Dec 2026: 1 consent; Jan 2027: 0 consents; "
        "Feb 2027: 0 consents; Mar 2027: 0 consents; Apr 2027: 0 consents"
    )
    usd = found["The Long Light: owed and paid (USD)"]
    assert usd.startswith("Owed: Dec 2025 0.00 USD,")
    assert "Nov 2026 3,500.00 USD; Paid: Dec 2025 0.00 USD," in usd
    assert usd.endswith("Nov 2026 400.00 USD")
    assert found["The Long Light: owed and paid (CAD)"].endswith("Nov 2026 0.00 CAD")
    assert set(parser.productions) == {s.film.pk}  # Night Shift owes nothing
    # Nothing of Northgate's: neither its production nor its 200.00 USD.
    assert "Harbor Nights" not in page
    assert not any("200.00 USD" in desc for desc in found.values())
    assert not any(title.startswith("Harbor") for title in found)


def test_a_guild_sees_its_share_across_studios(client, s):
    found, parser, _page = dashboard_charts(client, s.sag_user)
    # SAG-AFTRA's payables: Ann's 600 (10 days late) and Bob's 200 (3 days); not Wes's (WGA).
    assert found["Past due by age (USD)"].startswith("1-30 days late: 800.00 USD;")
    # Hal's two, Cy's and Bob's; not Wes's (a WGA use).
    assert found["Violations per month (last 12 months)"].endswith("Nov 2026: 4 violations")
    assert set(parser.productions) == {s.film.pk, s.harbor.pk}
    assert found["Harbor Nights: owed and paid (USD)"].endswith("Nov 2026 0.00 USD")


# --- the compliance report ------------------------------------------------------------------


@pytest.fixture
def studio_report(s):
    with time_machine.travel(NOW, tick=False):
        report, _ = report_generate(
            target=compliance.Target.of(s.meridian),
            period_from=date(2026, 10, 1),
            period_to=date(2026, 11, 30),
            origin=Report.Origin.ON_DEMAND,
            actor=s.clerk,
            as_of=timezone.now(),
        )
    return report


def test_the_report_draws_its_charts_from_its_rows_and_stores_none(studio_report):
    stored = studio_report.content
    page = render.html(studio_report)
    assert "<svg" not in stored and "Past due by age" not in stored
    drawn = render.section_charts(render.content(studio_report))
    assert set(drawn) == {"overdue_payables", "violations"}
    overdue = {words(parse(svg))[0]: words(parse(svg))[1] for svg in drawn["overdue_payables"]}
    assert overdue["Past due by age (USD)"].startswith("1-30 days late: 2,600.00 USD;")
    assert overdue["Past due by age (CAD)"].startswith("1-30 days late: 300.00 CAD;")
    # The period's violations by the month each starts in: Hal's two, Wes's and Cy's.
    assert words(parse(drawn["violations"][0])) == (
        "Violations per month",
        "Oct 2026: 0 violations; Nov 2026: 4 violations",
    )
    # Each chart sits in its own section of the page.
    overdue_section = page[page.index('<section id="overdue_payables">') :]
    overdue_section = overdue_section[: overdue_section.index("</section>")]
    assert "Past due by age (USD)" in overdue_section
    violations_section = page[page.index('<section id="violations">') :]
    assert "Violations per month" in violations_section[: violations_section.index("</section>")]
    assert Report.objects.get(pk=studio_report.pk).content == stored


def test_the_report_shows_no_chart_where_a_section_found_nothing(s):
    with time_machine.travel(NOW, tick=False):
        report, _ = report_generate(
            target=compliance.Target.of(s.night),
            period_from=date(2026, 9, 1),
            period_to=date(2026, 9, 30),
            origin=Report.Origin.ON_DEMAND,
            actor=s.clerk,
            as_of=timezone.now() - timedelta(days=60),
        )
    assert render.section_charts(render.content(report)) == {}
    assert "<svg" not in render.html(report)


def test_the_pdf_still_renders_with_its_charts(studio_report, tmp_path):
    pdf = render.pdf(studio_report)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Past due by age (USD)" in text
    assert "Violations per month" in text
    assert "1-30 days late" in text
