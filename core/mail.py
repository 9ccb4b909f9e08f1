"""Every e-mail the product sends is built here, its headers from sanitised text.

A header is one line. A value written by a caller (a production's title in a report's subject,
a person's name) that holds a carriage return or a line feed would start a header of its own
(`\\r\\nBcc: …`); Django refuses to send such a message (BadHeaderError), which used to turn a
request that had already stored its row into a 500. Control characters and the Unicode line and
paragraph separators are replaced by spaces, runs of whitespace closed up, and the result cut
to a length a mail client shows.
"""

import unicodedata

from django.conf import settings
from django.core.mail import EmailMessage

SUBJECT_MAX_LENGTH = 200
# Categories that would break a header line: control characters (Cc: CR, LF, NUL, tab, NEL…)
# and the Unicode line and paragraph separators (Zl, Zp).
_UNSAFE = {"Cc", "Zl", "Zp"}


def header_text(value, *, max_length: int = SUBJECT_MAX_LENGTH) -> str:
    """`value` as one line fit for a mail header: no CR, LF or other control characters."""
    text = "".join(" " if unicodedata.category(char) in _UNSAFE else char for char in str(value))
    text = " ".join(text.split())
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text


def message(*, subject: str, body: str, to: list[str]) -> EmailMessage:
    """A message from the product's address, its subject made safe with header_text()."""
    return EmailMessage(
        subject=header_text(subject),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
