"""A JSON renderer for large pages of plain rows (the payroll export).

DRF's JSONRenderer walks every value through Python's json encoder; for a page of 500 payables
that costs more than the query. orjson renders the same JSON several times faster, and embeds
`orjson.Fragment`s (JSON the database already produced) without decoding them first."""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_fallback = JSONEncoder().default  # Decimal, lazy strings, and the rest DRF knows


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=_fallback)
