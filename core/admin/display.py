"""Structured values (meals, flags, fringes, rates used, rule lists, documents) as a
business-affairs reader reads them on an admin page: words, short lists and small tables, never
a JSON literal. Every value is escaped (format_html), whatever it holds."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.money import money_display, number_display
from core.templatetags.money import money

NONE = "none"


def words(code: object) -> str:
    """A code as words: `needs_confirmation` -> "needs confirmation"."""
    return str(code).replace("_", " ").replace("-", " ") if isinstance(code, str) else str(code)


def comma_list(items: Iterable[object] | None) -> str:
    """Items (rule ids, region codes, scopes) one after another: "a, b, c", or "none"."""
    return ", ".join(str(item) for item in items or ()) or NONE


def flag_labels(flags: Iterable[object] | None) -> str:
    """Flags as labels: ["needs_confirmation", "residuals"] -> "needs confirmation, residuals"."""
    return ", ".join(words(flag) for flag in flags or ()) or NONE


def meal_periods(meals: Iterable[Sequence[object]] | None) -> str:
    """Meal breaks as time ranges: [["13:00", "13:30"]] -> "13:00–13:30"."""
    return ", ".join("–".join(str(t) for t in meal) for meal in meals or ()) or NONE


def fringe_table(fringes: Iterable[Mapping[str, Any]] | None, currency: str) -> SafeString | str:
    """Fringe contributions by fund: a small table of fund, rule and amount with its currency."""
    rows = [
        (f.get("fund", ""), f.get("rule", ""), money(f.get("amount", ""), currency))
        for f in fringes or ()
    ]
    if not rows:
        return NONE
    return format_html(
        "<table><tr><th>fund</th><th>rule</th><th>amount</th></tr>{}</table>",
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


def rate_sheet_list(sheets: Iterable[Mapping[str, Any]] | None) -> SafeString | str:
    """The rate sheets a run used, one per line: label and the start of its content hash."""
    rows = [(s.get("sheet", s.get("id", "")), str(s.get("sha256", ""))[:12]) for s in sheets or ()]
    if not rows:
        return NONE
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{} (sha256 {}…)</li>", rows))


def structured(value: Any) -> SafeString | str:
    """Anything else structured: a mapping as a definition list, a list of scalars as words
    separated by commas, a list of mappings as a numbered list of definition lists."""
    if isinstance(value, Mapping):
        if not value:
            return NONE
        return format_html(
            "<dl>{}</dl>",
            format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((words(k), structured(v)) for k, v in value.items())
            ),
        )
    if isinstance(value, list | tuple):
        if not any(isinstance(item, Mapping | list | tuple) for item in value):
            return comma_list(value)
        return format_html(
            "<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((structured(v),) for v in value))
        )
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def money_column(
    field: str, *, currency: str = "currency", description: str | None = None
) -> Callable[[Any, Any], str]:
    """An admin column (or read-only field) showing a money field as a person reads it,
    "1,500.00 USD", ordered by the field. `currency` names the attribute (a dotted path
    through relations: "engagement.rate_currency") that holds the amount's currency."""

    @admin.display(description=description or words(field), ordering=field.replace(".", "__"))
    def column(model_admin: Any, obj: Any) -> str:
        amount = _attribute(obj, field)
        if amount is None:
            return "—"
        return money_display(amount, _attribute(obj, currency))

    return column


def number_column(field: str, *, description: str | None = None) -> Callable[[Any, Any], str]:
    """An admin column (or read-only field) showing a rate or quantity without trailing zeros
    and with thousands separators ("1,500", "0.21"), ordered by the field."""

    @admin.display(description=description or words(field), ordering=field)
    def column(model_admin: Any, obj: Any) -> str:
        value = _attribute(obj, field)
        return "—" if value is None else number_display(value)

    return column


def _attribute(obj: Any, path: str) -> Any:
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


# The colour of a status word on its badge; a page with statuses of its own passes its colour.
BADGE_COLOURS = {
    "granted": "#1e7e34",
    "allowed": "#1e7e34",
    "suspended": "#b8860b",
    "expired": "#6c757d",
    "superseded": "#6c757d",
    "revoked": "#b02a37",
    "violation": "#b02a37",
}


def badge(status: str, colour: str | None = None) -> SafeString:
    """A status as a coloured badge; `badge badge-<status>` names the status for pages and
    browser tests alike."""
    return format_html(
        '<span class="gl-badge badge badge-{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;font-weight:600;white-space:nowrap">{}</span>',
        status,
        colour or BADGE_COLOURS.get(status, "#495057"),
        status,
    )
