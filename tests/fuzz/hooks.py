"""Schemathesis hooks for the API fuzz run (loaded through SCHEMATHESIS_HOOKS).

The OpenAPI schema promises one error shape for the whole API, and the built-in checks only hold a
response to it where the schema declares that status. This check holds every 4xx and 5xx to it,
declared or not: a JSON object with a string `code` and a string `message` (and `fields`, when
present, an object), so that no input, however odd, is answered with an HTML page or a bare body.
A filter keeps negative bodies out of form encodings, where a JSON type cannot be broken.
"""

import json

import schemathesis
from schemathesis.core.parameters import ParameterLocation


@schemathesis.check
def error_has_json_shape(ctx, response, case):
    """Every error answer is `{"code": str, "message": str, "fields": {...}}` JSON."""
    if response.status_code < 400 or response.request.method == "HEAD":
        return None
    # Schemathesis hands headers over with lower-case names and a list of values each.
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/json"):
        raise AssertionError(
            f"{response.status_code} answered with {content_type or 'no content type'}, not JSON"
        )
    try:
        body = json.loads(response.content or b"null")
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} body is {type(body).__name__}, not an object")
    for key in ("code", "message"):
        if not isinstance(body.get(key), str):
            raise AssertionError(f"{response.status_code} body has no string {key!r}: {body!r}")
    if "fields" in body and not isinstance(body["fields"], dict):
        raise AssertionError(f"{response.status_code} body's 'fields' is not an object: {body!r}")
    return None


# A form body (urlencoded or multipart) carries every value as text: `false`, `0` and `"0"` arrive
# alike, so a body that breaks the schema only by a value's JSON type cannot be sent that way, and
# the API reads such text as DRF's form parsing does. Negative bodies are still sent as JSON,
# which keeps their types; negative query strings, headers and paths are kept too.
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@schemathesis.hook
def filter_case(ctx, case):
    meta = case.meta
    if meta is None or case.media_type not in FORM_MEDIA_TYPES:
        return True
    return not meta.is_negative_at(ParameterLocation.BODY)
