"""Charts for the dashboard and the reports: inline SVG drawn on the server, so that a page loads
nothing from anywhere and the PDF (WeasyPrint draws inline SVG) shows the same picture.

Each chart is a pure function of its title, its data and its unit, returning an `<svg>` string:
`role="img"`, a `<title>` and a `<desc>` (and the same words as `aria-label`) that state every
value, so that a screen reader or a text search reads what the eye sees. Text, axes and grid
lines are drawn in `currentColor` (the page's text colour, in the admin's light and dark themes
and in print); the series colours are from the Okabe-Ito palette, readable on white and on the
dark theme's background and told apart by colourblind readers, and each line series also has
its own dash pattern and marker, so that a grey print keeps them apart.

Values are Decimals. An amount in a currency is labelled as a person reads it
(`core.money.money_display`: "2,600.00 USD"); any other unit is a count ("3 violations").
"""

from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.money import Currency, money_display

COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
WIDTH, HEIGHT = 640, 290
LEFT, RIGHT, TOP, BOTTOM = 112, 16, 62, 44  # the plot's margins, room for labels and legend
FONT = 'font-family="DejaVu Sans, system-ui, sans-serif" font-size="11"'


def value_label(value: Decimal, unit: str) -> str:
    """`value` in words: an amount with thousands separators and its currency, or a count."""
    if unit in Currency.values:
        return money_display(value, unit)
    if value == 1 and unit.endswith("s"):
        unit = unit[:-1]  # "1 violation"
    return f"{Decimal(value).normalize():,f} {unit}"


def bar_chart(title: str, buckets: list[tuple[str, Decimal]], unit: str) -> SafeString:
    """One bar per (label, value) bucket, in the order given, each with its value above it."""
    values = [Decimal(v) for _, v in buckets]
    words = "; ".join(
        f"{label}: {value_label(v, unit)}" for (label, _), v in zip(buckets, values, strict=True)
    )
    top, ticks = _scale(max(values, default=Decimal(0)), whole=unit not in Currency.values)
    parts = [*_frame(title, words or "no data"), *_y_axis(ticks, top, unit)]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(buckets), 1)
    bar_w = min(slot * 0.6, 80)
    widest = max((_text_width(label) for label, _ in buckets), default=0)
    every = _every(len(buckets), widest, slot)
    on_bars = all(_text_width(value_label(v, unit)) <= slot for v in values)
    for i, ((label, _), value) in enumerate(zip(buckets, values, strict=True)):
        x = LEFT + slot * i + (slot - bar_w) / 2
        h = _pixels(value, top, plot_h)
        y = TOP + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{COLOURS[0]}"><title>{escape(label)}: '
            f"{escape(value_label(value, unit))}</title></rect>"
        )
        centre = x + bar_w / 2
        if on_bars:  # else they would overlap: the bars' tooltips and the description hold them
            parts.append(_text(centre, y - 4, value_label(value, unit), anchor="middle"))
        if (len(buckets) - 1 - i) % every == 0:  # the last bucket is always labelled
            parts.append(_text(centre, TOP + plot_h + 16, label, anchor="middle"))
    parts += _legend([(_unit_name(unit), COLOURS[0], "", "bar")])
    return _svg(title, words or "no data", parts)


def line_chart(title: str, series: dict[str, list[tuple[date, Decimal]]], unit: str) -> SafeString:
    """One line per named series of (date, value) points, on a shared time axis labelled by
    month."""
    points = {name: sorted((d, Decimal(v)) for d, v in pts) for name, pts in series.items()}
    words = "; ".join(
        f"{name}: " + ", ".join(f"{d:%b %Y} {value_label(v, unit)}" for d, v in pts)
        for name, pts in points.items()
        if pts
    )
    dates = sorted({d for pts in points.values() for d, _ in pts})
    values = [v for pts in points.values() for _, v in pts]
    top, ticks = _scale(max(values, default=Decimal(0)), whole=unit not in Currency.values)
    parts = [*_frame(title, words or "no data"), *_y_axis(ticks, top, unit)]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    inset = 12  # room for the first and last markers and their date labels
    first, span = (dates[0], (dates[-1] - dates[0]).days) if dates else (None, 0)

    def x_of(d: date) -> float:
        if first is None or span == 0:
            return LEFT + plot_w / 2
        return LEFT + inset + (plot_w - 2 * inset) * (d - first).days / span

    def y_of(v: Decimal) -> float:
        return TOP + plot_h - _pixels(v, top, plot_h)

    every = _every(len(dates), _text_width("Sep 2026"), (plot_w - 2 * inset) / max(len(dates), 1))
    for i, d in enumerate(dates):
        if (len(dates) - 1 - i) % every == 0:  # the latest date is always labelled
            parts.append(_text(x_of(d), TOP + plot_h + 16, f"{d:%b %Y}", anchor="middle"))
    if not dates:
        parts.append(_text(LEFT + plot_w / 2, TOP + plot_h / 2, "No data", anchor="middle"))
    legend = []
    for i, (name, pts) in enumerate(points.items()):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        legend.append((name, colour, dash, "circle" if i % 2 == 0 else "square"))
        coords = " ".join(f"{x_of(d):.1f},{y_of(v):.1f}" for d, v in pts)
        if coords:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                f'stroke-width="2.5"{dash_attr}/>'
            )
        for d, v in pts:
            note = f"{escape(name)}, {d:%b %Y}: {escape(value_label(v, unit))}"
            parts.append(_marker(legend[-1][3], x_of(d), y_of(v), colour, note))
    parts += _legend(legend)
    return _svg(title, words or "no data", parts)


# --- drawing ------------------------------------------------------------------------------------


def _unit_name(unit: str) -> str:
    return f"Amount ({unit})" if unit in Currency.values else unit.capitalize()


def _pixels(value: Decimal, top: Decimal, length: int) -> float:
    """`value`'s share of `top` as a length of `length` pixels, to a tenth: the amounts stay
    Decimal, only the drawing is in pixels."""
    return round(value * length * 10 / top) / 10 if top else 0.0


def _text_width(text: str) -> float:
    """About how wide `text` is drawn at the charts' 11px."""
    return 6.5 * len(text) + 6


def _every(count: int, width: float, slot: float) -> int:
    """Label one slot in how many, so that labels `width` wide in slots `slot` wide do not
    overlap."""
    return max(1, -(-int(width) // max(int(slot), 1))) if count else 1


def _scale(largest: Decimal, *, whole: bool = False) -> tuple[Decimal, list[Decimal]]:
    """The axis top and its ticks: 0 and about four round steps (1, 2 or 5 times a power of
    ten; a whole number for a count) reaching at least `largest`."""
    if largest <= 0:
        return Decimal(0), [Decimal(0)]
    rough = largest / 4
    power = Decimal(10) ** (rough.adjusted())
    step = next(power * m for m in (1, 2, 5, 10) if power * m >= rough)
    if whole:
        step = max(step, Decimal(1))
    n = int((largest / step).to_integral_value(rounding=ROUND_CEILING))
    ticks = [step * i for i in range(n + 1)]
    return ticks[-1], ticks


def _frame(title: str, words: str) -> list[str]:
    return [
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(words)}</desc>",
        f'<text x="{LEFT}" y="18" font-weight="bold" font-size="13" fill="currentColor">'
        f"{escape(title)}</text>",
    ]


def _y_axis(ticks: list[Decimal], top: Decimal, unit: str) -> list[str]:
    plot_h, right = HEIGHT - TOP - BOTTOM, WIDTH - RIGHT
    parts = []
    for tick in ticks:
        y = TOP + plot_h - _pixels(tick, top, plot_h)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="currentColor" '
            f'stroke-opacity="{0.6 if tick == 0 else 0.2}" stroke-width="1"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, value_label(tick, unit), anchor="end"))
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="currentColor" '
        'stroke-opacity="0.6" stroke-width="1"/>'
    )
    return parts


def _legend(entries: list[tuple[str, str, str, str]]) -> list[str]:
    parts: list[str] = []
    x: float = LEFT
    for name, colour, dash, shape in entries:
        if shape == "bar":
            parts.append(f'<rect x="{x:.1f}" y="29" width="14" height="10" fill="{colour}"/>')
        else:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="{x:.1f}" y1="34" x2="{x + 22:.1f}" y2="34" stroke="{colour}" '
                f'stroke-width="2.5"{dash_attr}/>'
            )
            parts.append(_marker(shape, x + 11, 34, colour, ""))
        offset = 18 if shape == "bar" else 28
        parts.append(_text(x + offset, 38, name))
        x += offset + 7 * len(name) + 18
    return parts


def _marker(shape: str, x: float, y: float, colour: str, note: str) -> str:
    tip = f"<title>{note}</title>" if note else ""
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">{tip}</circle>'
    return (
        f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" '
        f'fill="{colour}">{tip}</rect>'
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="currentColor">'
        f"{escape(text)}</text>"
    )


def _svg(title: str, words: str, parts: list[str]) -> SafeString:
    label = escape(f"{title}. {words}")
    return mark_safe(  # noqa: S308  every text and attribute above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gl-chart" role="img" '
        f'aria-label="{label}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" {FONT}>' + "".join(parts) + "</svg>"
    )
