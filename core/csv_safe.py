"""The one CSV writer of every export (payables, payments, compliance reports, the engagement
import template): RFC 4180 text whose cells a spreadsheet reads as data, never as formulas, and
the one download of it (`download`): UTF-8 with a byte-order mark, without which a spreadsheet
on a Western Windows setup reads "Zoë" as "ZoÃ«" (the API's `?bom=false` leaves it out for
scripts: core.api.downloads). Every import of the product reads CSV with or without one.

Values written by one party (a payroll vendor's reference, a studio's production title, a
person's name) reach another party's spreadsheet. A cell that begins with `=`, `+`, `-`, `@`,
a tab or a carriage return is evaluated as a formula by Excel, LibreOffice and Google Sheets
(`=HYPERLINK(…)`, `@SUM(…)|cmd`). OWASP's recommendation (CSV Injection,
https://owasp.org/www-community/attacks/CSV_Injection) is followed:

- no cell begins with `=`, `+`, `-`, `@`, tab (0x09) or carriage return (0x0D): such a cell is
  prefixed with a single quote `'`, which spreadsheets take as "this cell is text";
- the field separators (`,` and `;`, which many locales use in its place) and quotes cannot
  start a new cell in the middle of a value: every cell holding a separator, a double quote, a
  tab or a line break is wrapped in double quotes, and each double quote in it is doubled.

Two choices beyond the letter of the page, both stricter or stated:

- A cell whose first character is whitespace (spaces, line feeds, …) is judged by its first
  character that is not: spreadsheets differ in whether they skip leading spaces before `=`, so
  `" =1+2"` is quoted too.
- A cell that is exactly a plain decimal number (`-12.50`, `7`: ASCII digits, an optional
  leading `-`, at most one `.` with digits on both sides) stays as it is. It cannot be a
  formula, and payroll needs a negative amount to stay a number in its spreadsheet. Anything
  else beginning with `-` (`-1+2`, `-cmd`) gets the quote.
"""

import itertools
import re
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# A cell holding one of these is wrapped in double quotes (RFC 4180, plus `;` and tab, the
# separators other locales and tools split on).
_NEEDS_QUOTES = re.compile(r'[,;"\t\r\n]')
CRLF = "\r\n"


def cell(value) -> str:
    """`value` as the text of one cell that no spreadsheet evaluates: None is empty."""
    text = "" if value is None else str(value)
    if not text or PLAIN_NUMBER.fullmatch(text):
        return text
    if text[0] in FORMULA_TRIGGERS or text.lstrip()[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def _field(value) -> str:
    text = cell(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def line(values: Iterable, *, lineterminator: str = CRLF) -> str:
    """One CSV line: each value neutralised (cell()) and quoted where RFC 4180 needs it."""
    return ",".join(_field(value) for value in values) + lineterminator


def lines(header: Iterable, rows: Iterable[Iterable], *, lineterminator: str = CRLF) -> Iterator:
    """The header and then each row, one line at a time (for a streamed download)."""
    yield line(header, lineterminator=lineterminator)
    for row in rows:
        yield line(row, lineterminator=lineterminator)


def text(header: Iterable, rows: Iterable[Iterable], *, lineterminator: str = CRLF) -> str:
    """The whole CSV document as one string."""
    return "".join(lines(header, rows, lineterminator=lineterminator))


BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"


def download(body: str | Iterable[str], filename: str, *, bom: bool = True) -> HttpResponseBase:
    """`body` (the CSV text, or its lines for a streamed download) as the attachment
    `filename`, starting with the byte-order mark unless `bom` is false."""
    head = [BOM] if bom else []
    response: HttpResponseBase
    if isinstance(body, str):
        response = HttpResponse("".join(head) + body, content_type=CONTENT_TYPE)
    else:
        response = StreamingHttpResponse(itertools.chain(head, body), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
