"""The API's file downloads: what their schema says, and the answer to an `Accept` they cannot
meet.

A download is a file of one type (CSV here); a request whose `Accept` admits neither it nor any
type is answered 406 `not_acceptable` (as JSON, like every error), rather than a file the caller
said it would not take. Errors of a download (a bad filter) are JSON too."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotAcceptable, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.utils.mediatypes import _MediaType, media_type_matches

from core import csv_safe
from core.api.common import ErrorSerializer

CSV = "text/csv"

BOM_PARAMETER = OpenApiParameter(
    "bom",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="`false` leaves out the UTF-8 byte-order mark the file starts with (spreadsheets "
    "need it to read accented names right; a script may not want it).",
)


def accepts(request, media_type: str) -> bool:
    header = request.META.get("HTTP_ACCEPT", "").strip()
    if not header:
        return True
    for accepted in header.split(","):
        accepted = accepted.strip()
        if not accepted:
            continue
        parsed = _MediaType(accepted)
        if parsed.params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if media_type_matches(media_type, accepted):
            return True
    return False


class CsvNegotiation(DefaultContentNegotiation):
    """A CSV download's negotiation: the file when `Accept` admits text/csv, else 406; the
    view's first renderer (JSON) for its errors."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if not accepts(request, CSV):
            raise NotAcceptable(f"This answer is {CSV}: send an Accept header that admits it.")
        return renderers[0], renderers[0].media_type


def csv_response(request, body, filename: str):
    """The CSV download of an API view (core.csv_safe.download), with the byte-order mark unless
    the query says `bom=false`; any other value of `bom` is refused."""
    given = request.query_params.get("bom")
    if given is not None and given.lower() not in ("true", "false"):
        raise ValidationError({"bom": ["Must be true or false."]})
    return csv_safe.download(body, filename, bom=given is None or given.lower() == "true")


def csv_download(*, filters: bool = False, parameters=()):
    """The schema of a CSV download: a text/csv body, the `bom` parameter, and the list's filters
    when `filters`."""
    return extend_schema(
        filters=filters,
        parameters=[BOM_PARAMETER, *parameters],
        responses={
            (200, CSV): OpenApiResponse(OpenApiTypes.STR, description="The CSV file (UTF-8)."),
            406: OpenApiResponse(
                ErrorSerializer, description="The request's Accept header does not admit CSV."
            ),
        },
    )
