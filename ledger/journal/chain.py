"""The hash chain over the journal: a canonical serialization and SHA-256, nothing else.

`hash = SHA-256(prev_hash || canonical JSON of the transaction and its postings)`. The
serialization is JSON with sorted keys, no whitespace, amounts as fixed two-place decimal
strings and dates in ISO 8601, so the same rows always give the same bytes whatever code
version or database wrote them. No database access here.
"""

import hashlib
import json
from datetime import UTC, date, datetime

GENESIS = "0" * 64


def _iso(value) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def canonical(header: dict, postings: list[dict]) -> bytes:
    """`header`: id, seq, kind, studio_id, source_type, source_id, description, effective_date,
    created_at, actor_id, reverses_id. `postings`: account_id, payable_id, amount, currency,
    effect."""
    body = {
        "id": str(header["id"]),
        "seq": int(header["seq"]),
        "kind": header["kind"],
        "studio": int(header["studio_id"]),
        "source": [header["source_type"], str(header["source_id"])],
        "description": header["description"],
        "effective_date": _iso(header["effective_date"]),
        "created_at": _iso(header["created_at"]),
        "actor": int(header["actor_id"]),
        "reverses": str(header["reverses_id"]) if header["reverses_id"] else None,
        "postings": sorted(
            (
                [
                    int(p["account_id"]),
                    int(p["payable_id"]) if p["payable_id"] else None,
                    f"{p['amount']:.2f}",
                    p["currency"],
                    p["effect"],
                ]
                for p in postings
            ),
            key=lambda row: (row[0], row[2], row[3], row[1] or 0, row[4]),
        ),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: str, header: dict, postings: list[dict]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(header, postings)).hexdigest()
