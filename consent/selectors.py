"""Reads for consent: who sees which records, a consent's status, and the facts the consent check
decides on, loaded in a fixed number of queries however many checks are asked at once."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from core.errors import DomainError, NotFound
from ledger import access
from ledger.access import Scope
from ledger.models import Agreement, Classification, Engagement, Membership, Person, Production

from . import rules
from .models import (
    AiUse,
    AiUseVoid,
    Consent,
    ConsentEvent,
    StrikePeriod,
    UnionNotice,
    WgaDisclosure,
)

_M = TypeVar("_M", bound=Model)

# --- scope ----------------------------------------------------------------------------------
# Studio staff see their productions' records; guild staff those under their guild's agreements;
# payroll keys none of them.


def _by_production(scope: Scope, qs: "QuerySet[_M]", guild_path: str) -> "QuerySet[_M]":
    if scope.superuser:
        return qs
    if scope.payroll_key is not None:
        return qs.none()
    return qs.filter(
        Q(production__studio_id__in=scope.studio_ids) | Q(**{f"{guild_path}__in": scope.guild_ids})
    )


def consents(scope: Scope, qs: "QuerySet[Consent] | None" = None) -> "QuerySet[Consent]":
    return _by_production(scope, Consent.objects.all() if qs is None else qs, "agreement__guild_id")


def ai_uses(scope: Scope, qs: "QuerySet[AiUse] | None" = None) -> "QuerySet[AiUse]":
    return _by_production(scope, AiUse.objects.all() if qs is None else qs, "agreement__guild_id")


def not_voided(
    qs: "QuerySet[_M]", *, as_of: datetime | None = None, path: str = ""
) -> "QuerySet[_M]":
    """`qs` (of AI uses, or of rows pointing at one through `path`, e.g. "ai_use__") without the
    voided uses (voided by `as_of`, when given): a void takes a use out of every decision,
    report section, run and count."""
    void = AiUseVoid.objects.filter(use_id=OuterRef(f"{path}id" if path else "pk"))
    if as_of is not None:
        void = void.filter(voided_at__lte=as_of)
    return qs.filter(~Exists(void))


def voided(qs: "QuerySet[_M]", *, as_of: datetime | None = None) -> "QuerySet[_M]":
    """The voided uses of `qs` (voided by `as_of`, when given)."""
    void = AiUseVoid.objects.filter(use_id=OuterRef("pk"))
    if as_of is not None:
        void = void.filter(voided_at__lte=as_of)
    return qs.filter(Exists(void))


def union_notices(
    scope: Scope, qs: "QuerySet[UnionNotice] | None" = None
) -> "QuerySet[UnionNotice]":
    return _by_production(scope, UnionNotice.objects.all() if qs is None else qs, "guild_id")


def wga_disclosures(
    scope: Scope, qs: "QuerySet[WgaDisclosure] | None" = None
) -> "QuerySet[WgaDisclosure]":
    qs = WgaDisclosure.objects.all() if qs is None else qs
    if scope.superuser:
        return qs
    if scope.payroll_key is not None:
        return qs.none()
    wga = Q(production__attachments__agreement__guild__code=rules.WGA) & Q(
        production__attachments__agreement__guild_id__in=scope.guild_ids
    )
    return qs.filter(Q(production__studio_id__in=scope.studio_ids) | wga).distinct()


def strike_periods(
    scope: Scope, qs: "QuerySet[StrikePeriod] | None" = None
) -> "QuerySet[StrikePeriod]":
    """Strikes are public facts: every staff caller reads them."""
    qs = StrikePeriod.objects.all() if qs is None else qs
    return qs.none() if scope.payroll_key is not None or scope.is_empty else qs


# --- status ---------------------------------------------------------------------------------


def suspensions(events: Iterable[ConsentEvent]) -> list[tuple[datetime, datetime | None]]:
    """(from, to) pairs from a consent's events in order; `to` is None while still suspended."""
    periods: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for event in events:
        if event.kind == ConsentEvent.Kind.SUSPENDED and start is None:
            start = event.effective_at
        elif event.kind == ConsentEvent.Kind.RESUMED and start is not None:
            periods.append((start, event.effective_at))
            start = None
    if start is not None:
        periods.append((start, None))
    return periods


def revoked_at(events: Iterable[ConsentEvent]) -> datetime | None:
    """When the consent is revoked from: the earliest revocation, in whatever order the events
    come (a revocation dated before one recorded earlier brings the end forward)."""
    return min(
        (e.effective_at for e in events if e.kind == ConsentEvent.Kind.REVOKED), default=None
    )


def consent_status(
    consent: Consent, *, now: datetime, events: list[ConsentEvent] | None = None
) -> str:
    """granted, superseded, revoked, suspended or expired, as of `now`."""
    events = list(consent.events.all()) if events is None else events
    if _has_successor(consent):
        return "superseded"
    revoked = revoked_at(events)
    if revoked is not None and revoked <= now:
        return "revoked"
    if any(s <= now and (e is None or e > now) for s, e in suspensions(events)):
        return "suspended"
    if consent.term_to is not None and consent.term_to < now.date():
        return "expired"
    return "granted"


def _has_successor(consent: Consent) -> bool:
    try:
        return consent.superseded_by is not None
    except Consent.superseded_by.RelatedObjectDoesNotExist:
        return False


def consents_expiring(
    qs: "QuerySet[Consent]", *, now: datetime, within: timedelta
) -> "QuerySet[Consent]":
    """Consents in force (granted or suspended, as consent_status says) whose term ends between
    today and `within` (a timedelta) from today: neither superseded nor revoked by `now`."""
    revoked = ConsentEvent.objects.filter(
        consent_id=OuterRef("pk"), kind=ConsentEvent.Kind.REVOKED, effective_at__lte=now
    )
    today = now.date()
    return qs.filter(
        term_to__gte=today, term_to__lte=today + within, superseded_by__isnull=True
    ).filter(~Exists(revoked))


# --- facts for the check --------------------------------------------------------------------

CLASSIFICATION_CATEGORY: dict[str, str] = {
    Classification.DAY_PERFORMER: "principal",
    Classification.WEEKLY_PERFORMER: "principal",
    Classification.BACKGROUND_ACTOR: "background",
    Classification.STAND_IN: "stand_in",
    Classification.WRITER: "writer",
    Classification.CREW_HOURLY: "crew",
    Classification.CREW_WEEKLY: "crew",
}
MEMBERSHIP_CATEGORY = {rules.SAG: "principal", rules.WGA: "writer", rules.IATSE: "crew"}


@dataclass(frozen=True)
class CheckRequest:
    """One question: may `person` be used this way (`kind`, `alteration_exception`, `flags`) in
    `production` at `at`, to `until` when the use spans a range?"""

    person_id: int | None
    production_id: int
    kind: str
    at: datetime
    until: datetime | None = None
    alteration_exception: str | None = None
    flags: rules.UseFlags = rules.UseFlags()


@dataclass(frozen=True)
class CheckFacts:
    """The agreement row a request falls under and the facts the check decides on."""

    agreement: Agreement
    facts: rules.Facts

    def decide(self) -> rules.Decision:
        return rules.check(self.facts)


def facts_for(scope: Scope, requests: list[CheckRequest]) -> list["CheckFacts | DomainError"]:
    """The facts for each request, in order, or the DomainError that stops it (a person or
    production outside the caller's scope is `not_found`, like a nonexistent one)."""
    person_ids = {r.person_id for r in requests if r.person_id is not None}
    production_ids = {r.production_id for r in requests}
    people = {
        p["id"]: p
        for p in access.people(scope, Person.objects.filter(id__in=person_ids)).values(
            "id", "is_deceased", "date_of_death", "authorized_representative"
        )
    }
    productions = set(
        access.productions(scope, Production.objects.filter(id__in=production_ids)).values_list(
            "id", flat=True
        )
    )
    world = _World.load(person_ids, productions)
    out: list[CheckFacts | DomainError] = []
    for request in requests:
        if request.production_id not in productions:
            out.append(NotFound("No such production.", fields={"production": "Not found."}))
            continue
        if request.person_id is not None and request.person_id not in people:
            out.append(NotFound("No such person.", fields={"person": "Not found."}))
            continue
        try:
            out.append(world.facts(request, people.get(request.person_id)))
        except DomainError as refusal:
            out.append(refusal)
    return out


_Key = tuple[int | None, int]  # (person, production)


class _World:
    """Everything the requests' people and productions need, loaded once."""

    agreements: list[Agreement]
    engagements: dict[_Key, tuple[str, datetime]]  # (classification, engaged at)
    memberships: defaultdict[int, set[str]]
    consents: defaultdict[_Key, list[rules.ConsentFacts]]
    categories: dict[_Key, str]
    strikes: tuple[rules.StrikeFacts, ...]
    notices: defaultdict[int, list[rules.UnionNoticeFacts]]
    disclosures: defaultdict[_Key, list[rules.DisclosureFacts]]

    @classmethod
    def load(cls, person_ids: set[int], production_ids: set[int]) -> "_World":
        world = cls()
        world.agreements = list(Agreement.objects.select_related("guild"))
        world.engagements = {}
        for e in (
            Engagement.objects.filter(person_id__in=person_ids, production_id__in=production_ids)
            .order_by("created_at")
            .values("person_id", "production_id", "classification", "created_at", "start_date")
        ):
            engaged_at = min(e["created_at"], datetime.combine(e["start_date"], time(), UTC))
            world.engagements.setdefault(
                (e["person_id"], e["production_id"]), (e["classification"], engaged_at)
            )
        world.memberships = defaultdict(set)
        for person_id, code in Membership.objects.filter(person_id__in=person_ids).values_list(
            "person_id", "guild__code"
        ):
            world.memberships[person_id].add(code)
        rows = list(
            Consent.objects.filter(
                person_id__in=person_ids, production_id__in=production_ids
            ).values(
                "id",
                "person_id",
                "production_id",
                "category",
                *rules.CONSENT_RECORD_FACTS,
                "supersedes_id",
            )
        )
        successors = {r["supersedes_id"]: r["id"] for r in rows if r["supersedes_id"]}
        events: defaultdict[int, list[ConsentEvent]] = defaultdict(list)
        for event in ConsentEvent.objects.filter(consent_id__in=[r["id"] for r in rows]).order_by(
            "effective_at", "id"
        ):
            events[event.consent_id].append(event)
        world.consents = defaultdict(list)
        world.categories = {}
        for r in rows:
            world.categories.setdefault((r["person_id"], r["production_id"]), r["category"])
            world.consents[(r["person_id"], r["production_id"])].append(
                rules.ConsentFacts(
                    id=r["id"],
                    production=str(r["production_id"]),
                    **{name: r[name] for name in rules.CONSENT_RECORD_FACTS},
                    revoked_at=revoked_at(events[r["id"]]),
                    suspensions=tuple(suspensions(events[r["id"]])),
                    superseded_by=successors.get(r["id"]),
                )
            )
        world.strikes = tuple(
            rules.StrikeFacts(guild=code, starts_on=start, ends_on=end)
            for code, start, end in StrikePeriod.objects.values_list(
                "guild__code", "starts_on", "ends_on"
            )
        )
        world.notices = defaultdict(list)
        for production_id, kind, given_at in UnionNotice.objects.filter(
            production_id__in=production_ids
        ).values_list("production_id", "kind", "given_at"):
            world.notices[production_id].append(
                rules.UnionNoticeFacts(kind=kind, production=str(production_id), given_at=given_at)
            )
        world.disclosures = defaultdict(list)
        for production_id, writer_id, disclosed_at in WgaDisclosure.objects.filter(
            production_id__in=production_ids, writer_id__in=person_ids
        ).values_list("production_id", "writer_id", "disclosed_at"):
            world.disclosures[(writer_id, production_id)].append(
                rules.DisclosureFacts(production=str(production_id), given_at=disclosed_at)
            )
        return world

    def facts(self, request: CheckRequest, person: dict[str, Any] | None) -> CheckFacts:
        key = (request.person_id, request.production_id)
        engagement = self.engagements.get(key)
        category = self._category(request, engagement)
        guild = rules.CATEGORY_GUILD[category] if category else rules.SAG
        agreement = self._agreement_in_force(guild, request.at.date())
        person_facts = None
        if person is not None and category is not None:  # a person always has a category
            deceased_on = (person["date_of_death"] or date.min) if person["is_deceased"] else None
            person_facts = rules.PersonFacts(
                category=category,
                deceased_on=deceased_on,
                engaged_at=engagement[1] if engagement else None,
                has_representative=bool(person["authorized_representative"]),
            )
        use = rules.UseFacts(
            kind=request.kind,
            production=str(request.production_id),
            at=request.at,
            until=request.until,
            alteration_exception=request.alteration_exception,
            flags=request.flags,
        )
        return CheckFacts(
            agreement=agreement,
            facts=rules.Facts(
                agreement=agreement.code,
                person=person_facts,
                use=use,
                consents=tuple(self.consents.get(key, ())),
                strikes=self.strikes,
                union_notices=tuple(self.notices.get(request.production_id, ())),
                disclosures=tuple(self.disclosures.get(key, ())),
            ),
        )

    def _category(
        self, request: CheckRequest, engagement: tuple[str, datetime] | None
    ) -> str | None:
        if request.person_id is None:
            return None
        if engagement is not None:
            return CLASSIFICATION_CATEGORY[engagement[0]]
        known = self.categories.get((request.person_id, request.production_id))
        if known:
            return known
        for guild in (rules.SAG, rules.WGA, rules.IATSE):
            if guild in self.memberships.get(request.person_id, ()):
                return MEMBERSHIP_CATEGORY[guild]
        raise DomainError(
            "The person is neither engaged on this production, nor consented for it, nor a "
            "member of a guild; there is no agreement to check against.",
            code="no_agreement",
            fields={"person": "No engagement, consent or guild membership."},
        )

    def _agreement_in_force(self, guild: str, day: date) -> Agreement:
        for agreement in self.agreements:
            if agreement.guild.code == guild and agreement.in_force_on(day):
                return agreement
        raise DomainError(
            f"No {guild} agreement is in force on {day}.",
            code="no_agreement",
            fields={"on": f"No {guild} agreement in force on that date."},
        )


def check_one(scope: Scope, request: CheckRequest) -> tuple[Agreement, rules.Decision]:
    """Decide one request; raises the DomainError that stops it."""
    result = facts_for(scope, [request])[0]
    if isinstance(result, DomainError):
        raise result
    return result.agreement, _decide(result)


def _decide(found: CheckFacts) -> rules.Decision:
    try:
        return found.decide()
    except rules.CheckInputError as error:
        raise DomainError(
            error.message, code=error.code, fields={error.field or "use_kind": error.message}
        ) from error


def check_many(scope: Scope, requests: list[CheckRequest]) -> list["rules.Decision | DomainError"]:
    out: list[rules.Decision | DomainError] = []
    for result in facts_for(scope, requests):
        if isinstance(result, DomainError):
            out.append(result)
            continue
        try:
            out.append(_decide(result))
        except DomainError as refusal:
            out.append(refusal)
    return out


def uses_affected_by(consent: Consent, *, after: datetime) -> "QuerySet[AiUse]":
    """Recorded uses that relied on `consent` and are dated at or after `after` (planned uses
    a revocation or suspension takes away)."""
    return not_voided(AiUse.objects.filter(consent=consent)).filter(
        Q(starts_at__gte=after) | Q(ends_at__gte=after)
    )


def recheck(uses: Iterable[AiUse]) -> list["rules.Decision | DomainError"]:
    """The decision the check makes now, on today's facts, for recorded uses: a revocation,
    suspension or strike recorded after a use can take away the consent it was allowed on."""
    return check_many(Scope(superuser=True), [_recheck_request(use) for use in uses])


def _recheck_request(use: AiUse) -> CheckRequest:
    return CheckRequest(
        person_id=use.person_id,
        production_id=use.production_id,
        kind=use.kind,
        at=use.starts_at,
        until=use.ends_at,
        alteration_exception=use.alteration_exception or None,
        flags=rules.UseFlags(**{flag: getattr(use, flag) for flag in rules.USE_FLAGS}),
    )


@dataclass(frozen=True)
class UncoveredUse:
    """A recorded use a revocation leaves without consent, and why (the check's rule ids)."""

    use: AiUse
    rules: tuple[str, ...]
    reasons: tuple[str, ...]


def revocation_impact(consent: Consent, *, at: datetime) -> list[UncoveredUse]:
    """The recorded uses that rely on `consent`, dated at or after `at`, which the consent check
    does not allow once the consent is revoked from `at`: decided on today's facts with the
    revocation added, so it answers the same before the revocation is confirmed and after."""
    uses = list(
        uses_affected_by(consent, after=at)
        .select_related("person", "production")
        .order_by("starts_at", "pk")
    )
    facts = facts_for(Scope(superuser=True), [_recheck_request(use) for use in uses])
    out: list[UncoveredUse] = []
    for use, found in zip(uses, facts, strict=True):
        try:
            if isinstance(found, DomainError):
                raise found
            decision = _decide(_revoked_from(found, consent.pk, at))
        except DomainError as refusal:
            out.append(UncoveredUse(use, (refusal.code,), (refusal.message,)))
            continue
        if not decision.allowed:
            out.append(UncoveredUse(use, tuple(decision.rules), tuple(decision.reasons)))
    return out


def _revoked_from(found: CheckFacts, consent_id: int, at: datetime) -> CheckFacts:
    consents = tuple(
        replace(c, revoked_at=min(c.revoked_at or at, at)) if c.id == consent_id else c
        for c in found.facts.consents
    )
    return replace(found, facts=replace(found.facts, consents=consents))
