"""Demo consent records for `manage.py demo`: consents of several kinds (one revoked), union
notices, a WGA disclosure and an AI-use register with allowed uses and violations. Idempotent."""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.files.base import ContentFile

from ledger.access import SYSTEM_SCOPE, Scope
from ledger.models import Guild, Person, Production

from . import services
from .models import Consent


def _at(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _person(name):
    return Person.objects.get(legal_name=name)


def _evidence(title):
    return ContentFile(
        f"Guild Ledger demo evidence\n{title}\nSigned and dated.\n".encode(),
        name=f"{title.lower().replace(' ', '-')}.txt",
    )


def _consent(actor, person, production, kind, description, signed_at, **fields):
    return services.consent_grant(
        actor=actor,
        person=person,
        production=production,
        kind=kind,
        description=description,
        instrument=fields.pop("instrument", "separate_writing"),
        signed_at=signed_at,
        signed_by=fields.pop("signed_by", person.legal_name),
        signed_by_capacity=fields.pop("signed_by_capacity", "self"),
        term_from=fields.pop("term_from", signed_at.date()),
        evidence=_evidence(f"{kind} {person.legal_name}"),
        **fields,
    )


def _use(actor, production, person, kind, starts_at, description, **fields):
    return services.ai_use_record(
        actor=actor,
        scope=Scope(superuser=True),
        production=production,
        person=person,
        kind=kind,
        starts_at=starts_at,
        description=description,
        **fields,
    )


def load(*, actor):
    film = Production.objects.get(title="The Long Light")
    series = Production.objects.get(title="Harbor Nights")
    if Consent.objects.filter(production=film).exists():
        return
    ava, marcus, lena, priya = (
        _person(n) for n in ("Ava Delgado", "Marcus Bell", "Lena Okafor", "Priya Raman")
    )
    rosa, diego = _person("Rosa Lin"), _person("Diego Marín")

    # SAG-AFTRA: a scan and an employment-based replica use, both covered.
    _consent(
        actor,
        ava,
        film,
        "replica_creation",
        "Full-body and facial scan to create a replica for the reel 4 battle scenes, for the "
        "theatrical release, streaming and trailers",
        _at(2025, 5, 20, 10),
        notice_at=_at(2025, 5, 27, 9),
        engaged_at=_at(2025, 5, 15, 10),
        media="theatrical, streaming, trailers",
        territory="worldwide",
    )
    _use(actor, film, ava, "replica_creation", _at(2025, 6, 3, 9), "Scan session at stage 5")
    _consent(
        actor,
        ava,
        film,
        "replica_use",
        "Digital replica in the reel 4 battle sequence (scenes 88 to 92), for the theatrical "
        "release, streaming and trailers",
        _at(2025, 6, 5, 16),
        term_to=date(2026, 6, 30),
        scenes="88-92",
    )
    _use(
        actor,
        film,
        ava,
        "replica_use",
        _at(2025, 8, 10, 9),
        "Replica in scenes 88-92",
        days=Decimal("2"),
        scenes="88-92",
    )

    # A digital alteration consent, revoked before the alteration was made: a violation.
    altered = _consent(
        actor,
        marcus,
        film,
        "digital_alteration",
        "Lip-sync alteration of scenes 14 and 15 for the theatrical cut and streaming",
        _at(2025, 6, 10, 12),
        scenes="14, 15",
    )
    services.consent_revoke(
        actor=actor,
        consent=altered,
        at=_at(2025, 7, 1, 9),
        reason="The performer withdrew consent by letter dated 2025-06-30.",
    )
    _use(
        actor,
        film,
        marcus,
        "digital_alteration",
        _at(2025, 7, 15, 14),
        "Lip-sync change in scene 14",
        scenes="14",
    )
    # An alteration on the exception list needs no consent.
    _use(
        actor,
        film,
        lena,
        "digital_alteration",
        _at(2025, 7, 2, 10),
        "Skin retouching in scene 31",
        alteration_exception="cosmetics",
        scenes="31",
    )
    # A replica use with no consent at all: recorded, as a violation.
    _use(
        actor,
        film,
        priya,
        "replica_use",
        _at(2025, 9, 1, 9),
        "Replica used for a pickup shot in scene 40",
        days=Decimal("1"),
        scenes="40",
    )

    # WGA: company consent to the writer's own AI use, and disclosed AI material.
    _consent(
        actor,
        rosa,
        film,
        "writer_ai_use",
        "The company consents to the writer using a generative AI research assistant, under "
        "the company's AI policy v2",
        _at(2025, 6, 1, 15),
        signed_by="Meridian Pictures business affairs",
        signed_by_capacity="representative",
    )
    _use(
        actor,
        film,
        rosa,
        "writer_ai_use",
        _at(2025, 6, 15, 10),
        "Writer used an AI assistant for period research",
    )
    services.wga_disclosure_record(
        actor=actor,
        scope=SYSTEM_SCOPE,
        production=film,
        writer=rosa,
        material="AI-generated summary of 1940s harbor logistics (12 pages)",
        handed_over_on=date(2025, 6, 10),
        disclosed_at=_at(2025, 6, 9, 17),
    )
    _use(
        actor,
        film,
        rosa,
        "writer_ai_use",
        _at(2025, 6, 10, 11),
        "AI-generated research summary handed to the writer",
        material_handed_over=True,
    )

    # IATSE: the AI-impact notice, and a crew member's separately consented scan.
    services.union_notice_record(
        actor=actor,
        scope=SYSTEM_SCOPE,
        production=film,
        guild=Guild.objects.get(code="iatse"),
        kind="ai_impact",
        given_at=_at(2025, 5, 20, 9),
        recipient="IATSE Local 600",
        description="Virtual production stage with AI-assisted set extension.",
    )
    _consent(
        actor,
        diego,
        film,
        "scan",
        "Photogrammetry scan of the camera operator for the set-extension previs",
        _at(2025, 6, 1, 9),
    )
    _use(actor, film, diego, "scan", _at(2025, 6, 4, 8), "Previs scan of the camera crew")

    # A synthetic performer in the 2026 series, after notice to SAG-AFTRA.
    services.union_notice_record(
        actor=actor,
        scope=SYSTEM_SCOPE,
        production=series,
        guild=Guild.objects.get(code="sag-aftra"),
        kind="synthetic_performer",
        given_at=_at(2026, 7, 1, 9),
        recipient="SAG-AFTRA",
        description="A synthetic harbor-master character in episodes 2 and 5.",
    )
    _use(
        actor,
        series,
        None,
        "synthetic_performer",
        _at(2026, 7, 20, 9),
        "Synthetic harbor master, episode 2",
    )

    # California law: a performer no guild covers, on the 2026 series under no collective
    # agreement. Her replica may stand in for days she would have worked, the description is a
    # catch-all, and no counsel negotiated it: Labor Code §927 leaves it covering nothing.
    june = _person("June Calloway")
    _consent(
        actor,
        june,
        series,
        "replica_use",
        "Digital replica of the performer for the series, in any and all media now known or "
        "hereafter devised",
        _at(2026, 7, 8, 10),
        governing_law="US-CA",
        performance_fixed_on=date(2026, 7, 14),
        replaces_in_person_work=True,
    )
    _use(
        actor,
        series,
        june,
        "replica_use",
        _at(2026, 8, 3, 9),
        "Replica in place of a pickup day, episode 3",
    )
