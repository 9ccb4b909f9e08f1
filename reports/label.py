"""The production's AI disclosure label: what the public may know about AI use in a production.

The label gives counts: AI uses per kind (allowed and recorded as violations), the consents
relied on by instrument and signing capacity, notices to the unions, writers handed AI-generated
material and how many of them were told. It names a person only when that person agreed to be
named (a consent on the production with `named_in_disclosure`, neither revoked nor superseded),
and then only with the kinds of use made under such a consent. Nothing else about a person, and
no free text a studio wrote (descriptions, scenes, reasons, recipients), ever reaches the label:
it is built from an explicit list of fields, never from whole records.
"""

from collections import defaultdict
from datetime import UTC
from typing import Any

from django.db.models import Count, Min, Q
from django.template.loader import render_to_string

from compensation.models import WgaDelivery
from consent import rules
from consent import selectors as consent_selectors
from consent.models import AiUse, Consent, UnionNotice, WgaDisclosure
from ledger.models import Person, Production

from .models import Report


def content(production: Production) -> dict:
    """The label as plain JSON values."""
    # A voided use was recorded by mistake: the public label does not count it.
    uses = consent_selectors.not_voided(AiUse.objects.filter(production=production))
    return {
        "label": "AI disclosure",
        "production": production.title,
        "studio": production.studio.name,
        "uses": _uses(uses),
        "consent_basis": _consent_basis(uses),
        "named": _named(production, uses),
        "union_notices": _union_notices(production),
        "writers": _writers(production, uses),
        "last_compliance_report": _last_report(production),
    }


def _kind_order(kind: str) -> int:
    return rules.USE_KINDS.index(kind) if kind in rules.USE_KINDS else len(rules.USE_KINDS)


def _uses(uses) -> dict:
    rows = (
        uses.order_by()
        .values("kind")
        .annotate(
            recorded=Count("id"),
            people=Count("person", distinct=True),
            allowed=Count("id", filter=Q(status=AiUse.Status.ALLOWED)),
            violations=Count("id", filter=Q(status=AiUse.Status.VIOLATION)),
        )
    )
    return {
        row["kind"]: {k: row[k] for k in ("recorded", "people", "allowed", "violations")}
        for row in sorted(rows, key=lambda row: _kind_order(row["kind"]))
    }


def _consent_basis(uses) -> dict:
    """Per use kind, the distinct consents the recorded uses relied on."""
    relied = (
        uses.filter(consent__isnull=False)
        .order_by()
        .values_list("kind", "consent_id", "consent__instrument", "consent__signed_by_capacity")
        .distinct()
    )
    out: dict[str, dict[str, Any]] = {}
    for kind, _, instrument, capacity in sorted(relied, key=lambda r: (_kind_order(r[0]), r[1])):
        basis = out.setdefault(
            kind,
            {
                "consents": 0,
                "instrument": dict.fromkeys(rules.INSTRUMENTS, 0),
                "capacity": dict.fromkeys(rules.CAPACITIES, 0),
            },
        )
        basis["consents"] += 1
        basis["instrument"][instrument] = basis["instrument"].get(instrument, 0) + 1
        basis["capacity"][capacity] = basis["capacity"].get(capacity, 0) + 1
    return out


def _named(production: Production, uses) -> list[dict]:
    """Only people who agreed to be named, with the kinds of use made under that consent."""
    agreed = (
        Consent.objects.filter(
            production=production, named_in_disclosure=True, superseded_by__isnull=True
        )
        .exclude(events__kind="revoked")
        .values_list("id", "person_id")
    )
    consents = defaultdict(set)
    for consent_id, person_id in agreed:
        consents[person_id].add(consent_id)
    kinds = defaultdict(set)
    for person_id, kind in uses.filter(
        status=AiUse.Status.ALLOWED, consent_id__in=[c for ids in consents.values() for c in ids]
    ).values_list("person_id", "kind"):
        kinds[person_id].add(kind)
    names = Person.objects.filter(pk__in=consents).values_list(
        "pk", "professional_name", "legal_name"
    )
    named = [
        {"name": professional or legal, "use_kinds": sorted(kinds[pk], key=_kind_order)}
        for pk, professional, legal in names
    ]
    return sorted(named, key=lambda n: (n["name"], n["use_kinds"]))


def _union_notices(production: Production) -> list[dict]:
    rows = (
        UnionNotice.objects.filter(production=production)
        .order_by()
        .values("kind", "guild__code")
        .annotate(count=Count("id"), first=Min("given_at"))
        .order_by("kind", "guild__code")
    )
    return [
        {
            "kind": row["kind"],
            "guild": row["guild__code"],
            "count": row["count"],
            "first_given_on": row["first"].astimezone(UTC).date().isoformat(),
        }
        for row in rows
    ]


def _writers(production: Production, uses) -> dict:
    received = set(
        uses.filter(material_handed_over=True, person__isnull=False).values_list(
            "person_id", flat=True
        )
    )
    received |= set(
        WgaDelivery.objects.filter(
            engagement__production=production, ai_material_handed_over=True
        ).values_list("engagement__person_id", flat=True)
    )
    disclosed = (
        WgaDisclosure.objects.filter(production=production, writer_id__in=received)
        .values("writer_id")
        .distinct()
        .count()
    )
    return {"received_ai_material": len(received), "disclosed": disclosed}


def _last_report(production: Production) -> dict | None:
    report = Report.objects.filter(production=production).order_by("-generated_at", "-id").first()
    if report is None:
        return None
    return {
        "generated_at": report.generated_at.astimezone(UTC).isoformat(),
        "period_from": report.period_from.isoformat(),
        "period_to": report.period_to.isoformat(),
        "sha256": report.sha256,
    }


def _words(value: str) -> str:
    return value.replace("_", " ")


def _counted(counts: dict[str, int]) -> list[tuple[str, int]]:
    """The counts a reader needs, in words: those of none are left out (the JSON keeps them)."""
    return [(_words(k), n) for k, n in counts.items() if n]


def html(content: dict, *, files: dict[str, str] | None = None) -> str:
    """A standalone public page of the label; `files`, the addresses of its signed PDF and PNG
    (the page links them; the PDF, drawn from this page too, does not)."""
    basis = content["consent_basis"]
    uses = [
        {
            "kind": _words(kind),
            **counts,
            "basis": basis.get(kind),
            "instruments": _counted((basis.get(kind) or {}).get("instrument", {})),
            "capacities": _counted((basis.get(kind) or {}).get("capacity", {})),
        }
        for kind, counts in content["uses"].items()
    ]
    named = [
        {"name": n["name"], "use_kinds": ", ".join(_words(k) for k in n["use_kinds"])}
        for n in content["named"]
    ]
    notices = [{**n, "kind": _words(n["kind"])} for n in content["union_notices"]]
    return render_to_string(
        "reports/label.html",
        {"c": content, "uses": uses, "named": named, "notices": notices, "files": files},
    )
