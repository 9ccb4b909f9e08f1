"""A stored report in each of its formats. HTML (the admin page) and PDF come from the same
template (`reports/compliance_body.html`); the CSV and the JSON carry every row. The HTML and the
PDF show the first ROW_LIMIT rows of a section and say how many more the CSV and JSON hold: a
studio's report can find thousands of rows, and a PDF of them all would not be read."""

import json
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse
from django.template.loader import render_to_string

from core import csv_safe

from . import charts, dashboard
from .models import Report

ROW_LIMIT = 200
CSV_COLUMNS = (
    "section",
    "rule",
    "object",
    "id",
    "production",
    "person",
    "date",
    "detail",
    "count",
    "amount",
    "currency",
)


def canonical_json(content: dict) -> str:
    """The one serialisation that is stored and hashed: sorted keys, no insignificant spaces."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content(report: Report) -> dict:
    return json.loads(report.content)


def context(report: Report) -> dict:
    data = content(report)
    drawn = section_charts(data)
    sections = []
    for section in data["sections"]:
        rows = section["rows"]
        sections.append(
            {
                **section,
                "shown": rows[:ROW_LIMIT],
                "more": max(0, len(rows) - ROW_LIMIT),
                "charts": drawn.get(section["key"], []),
            }
        )
    return {"report": report, "data": data, "sections": sections, "ledger": data["ledger"]}


def section_charts(data: dict) -> dict[str, list[str]]:
    """{section key: [inline SVG]}: the charts of a report, drawn at render time from every row
    it holds (not only the rows shown), so that the stored content stays as it was made.

    - Payables past their due date: what is still due by how late it is, as of the moment the
      report was made, one chart per currency.
    - AI uses recorded as violations: how many per month of the report's period, by the month
      each use starts in."""
    rows = {section["key"]: section["rows"] for section in data["sections"]}
    found: dict[str, list[str]] = {}
    made = datetime.fromisoformat(data["generated_at"]).date()
    if rows.get("overdue_payables"):
        late = (
            ((made - date.fromisoformat(row["date"])).days, row["currency"], Decimal(row["amount"]))
            for row in rows["overdue_payables"]
            if row["amount"]
        )
        found["overdue_payables"] = [
            charts.bar_chart(f"Past due by age ({currency})", buckets, currency)
            for currency, buckets in dashboard.age_buckets(late).items()
        ]
    if rows.get("violations"):
        period_to = date.fromisoformat(data["period"]["to"])
        months = dashboard.month_starts(period_to, _months(data["period"]["from"], period_to))
        counts: dict[str, int] = {}
        for row in rows["violations"]:
            month = f"{date.fromisoformat(row['date']):%b %Y}"
            counts[month] = counts.get(month, 0) + row["count"]
        found["violations"] = [
            charts.bar_chart(
                "Violations per month",
                [(f"{m:%b %Y}", Decimal(counts.get(f"{m:%b %Y}", 0))) for m in months],
                "violations",
            )
        ]
    return found


def _months(period_from: str, period_to: date) -> int:
    """How many calendar months the period touches."""
    start = date.fromisoformat(period_from)
    return (period_to.year - start.year) * 12 + period_to.month - start.month + 1


def html(report: Report) -> str:
    """A standalone HTML document (what the PDF is printed from)."""
    return render_to_string("reports/compliance.html", context(report))


def pdf(report: Report) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs a second

    return HTML(string=html(report)).write_pdf()


def csv_text(report: Report) -> str:
    rows = (
        [section["key"], *(row[c] for c in CSV_COLUMNS[1:])]
        for section in content(report)["sections"]
        for row in section["rows"]
    )
    return csv_safe.text(CSV_COLUMNS, rows)


def file_name(report: Report, extension: str) -> str:
    scope = report.scope_key.replace(":", "-")
    return f"compliance-{scope}-{report.period_from}-{report.period_to}-{report.pk}.{extension}"


def email_text(report: Report) -> str:
    data = content(report)
    lines = [
        f"Compliance report: {data['scope']['label']}",
        f"Period {report.period_from} to {report.period_to}, made "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    lines += [f"{s['count']:>7}  {s['title']}" for s in data["sections"]]
    chain = data["ledger"]
    lines += [
        "",
        f"Ledger chain: {'intact' if chain['intact'] else 'BROKEN'}, head #{chain['head_seq']} "
        f"{chain['head_hash']}",
        f"Report SHA-256: {report.sha256}",
        "",
        "The PDF is attached; the CSV and JSON are in Guild Ledger.",
    ]
    return "\n".join(lines)


def attachment(body, content_type: str, name: str) -> HttpResponse:
    """A download of `body` under `name` (the API's and the admin's)."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
