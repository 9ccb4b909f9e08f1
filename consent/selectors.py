"""Reads for consent: who sees which records, a consent's status, and the facts the consent check
decides on, loaded in a fixed number of queries however many checks are asked at once."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from core.errors import DomainError, NotFound
from ledger import access
from ledger.access import Scope
from ledger.models import (
    Agreement,
    Classification,
    Engagement,
    Membership,
    Person,
    Production,
    ProductionAgreement,
)
from ledger.registry import catalogue

from . import rules
from .models import (
    AiUse,
    AiUseVoid,
    Consent,
    ConsentEvent,
    ConsentRequest,
    Representation,
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


def consent_requests(
    scope: Scope, qs: "QuerySet[ConsentRequest] | None" = None
) -> "QuerySet[ConsentRequest]":
    """Seen as the consents they would produce: by the studio's staff, and by the staff of the
    guild whose agreement they are under."""
    qs = ConsentRequest.objects.all() if qs is None else qs
    return _by_production(scope, qs, "agreement__guild_id")


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
    """One question: may `person` be used this way (`kind`, `alteration_exception`, `flags`, and
    for a synthetic performer or an advertisement the 2026 facts) in `production` at `at`, to
    `until` when the use spans a range?"""

    person_id: int | None
    production_id: int
    kind: str
    at: datetime
    until: datetime | None = None
    alteration_exception: str | None = None
    flags: rules.UseFlags = rules.UseFlags()
    synthetic_justification: str = ""
    distributed_in: tuple[str, ...] = ()
    ad_exemption: str | None = None


@dataclass(frozen=True)
class CheckFacts:
    """The agreement row a request falls under, the facts the check decides on, and a note on
    how the agreement was chosen when the production has none attached for the use's date."""

    agreement: Agreement
    facts: rules.Facts
    note: str | None = None

    def decide(self) -> rules.Decision:
        decision = rules.check(self.facts)
        if self.note is None:
            return decision
        return replace(decision, reasons=(*decision.reasons, self.note))


def record_facts(values: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a consent states (rules.CONSENT_RECORD_FACTS), from its columns or a draft's
    fields: no governing law and a representation of "none" are None to the check."""
    facts = {name: values.get(name) for name in rules.CONSENT_RECORD_FACTS if name in values}
    if "governing_law" in facts:
        facts["governing_law"] = facts["governing_law"] or None
    if facts.get("represented_by") in ("", Representation.NONE):
        facts["represented_by"] = None
    return facts


def use_facts(request: CheckRequest) -> rules.UseFacts:
    return rules.UseFacts(
        kind=request.kind,
        production=str(request.production_id),
        at=request.at,
        until=request.until,
        alteration_exception=request.alteration_exception,
        flags=request.flags,
        synthetic_justification=request.synthetic_justification,
        distributed_in=request.distributed_in,
        ad_exemption=request.ad_exemption,
    )


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

    agreements: dict[str, Agreement]  # by code
    attached: defaultdict[int, list[str]]  # a production's attached agreement codes
    engagements: dict[_Key, tuple[str, datetime, str]]  # (classification, engaged at, agreement)
    memberships: defaultdict[int, set[str]]
    consents: defaultdict[_Key, list[rules.ConsentFacts]]
    categories: dict[_Key, str]
    strikes: tuple[rules.StrikeFacts, ...]
    notices: defaultdict[int, list[rules.UnionNoticeFacts]]
    disclosures: defaultdict[_Key, list[rules.DisclosureFacts]]

    @classmethod
    def load(cls, person_ids: set[int], production_ids: set[int]) -> "_World":
        world = cls()
        world.agreements = {a.code: a for a in Agreement.objects.all()}
        world.attached = defaultdict(list)
        for production_id, code in (
            ProductionAgreement.objects.filter(production_id__in=production_ids)
            .order_by("agreement__code")
            .values_list("production_id", "agreement__code")
        ):
            world.attached[production_id].append(code)
        world.engagements = {}
        for e in (
            Engagement.objects.filter(person_id__in=person_ids, production_id__in=production_ids)
            .order_by("created_at")
            .values(
                "person_id",
                "production_id",
                "classification",
                "created_at",
                "start_date",
                "agreement__code",
            )
        ):
            world.engagements.setdefault(
                (e["person_id"], e["production_id"]),
                (e["classification"], _engaged_at(e), e["agreement__code"]),
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
                    **record_facts(r),
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
        # A person engaged under no collective agreement is checked under `non-union` (the
        # general and state-law rules), whatever the work; anyone else under their guild's.
        non_union = engagement is not None and engagement[2] == catalogue.NON_UNION
        guild = None if non_union else rules.CATEGORY_GUILD[category] if category else rules.SAG
        day = request.at.date()
        attached = self.attached.get(request.production_id, [])
        agreement = self._agreement_in_force(guild, day, attached)
        person_facts = None
        if person is not None and category is not None:  # a person always has a category
            person_facts = _person_facts(
                person, category, engaged_at=engagement[1] if engagement else None
            )
        return CheckFacts(
            agreement=agreement,
            note=None if agreement.code in attached else _governs_note(agreement, day, attached),
            facts=rules.Facts(
                agreement=agreement.code,
                person=person_facts,
                use=use_facts(request),
                consents=tuple(self.consents.get(key, ())),
                strikes=self.strikes,
                union_notices=tuple(self.notices.get(request.production_id, ())),
                disclosures=tuple(self.disclosures.get(key, ())),
            ),
        )

    def _category(
        self, request: CheckRequest, engagement: tuple[str, datetime, str] | None
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

    def _agreement_in_force(self, guild: str | None, day: date, attached: list[str]) -> Agreement:
        """The version of the guild's agreement in force on `day` (RULES.md §1: the use date
        chooses it), whether or not the production has it attached."""
        version = catalogue.in_force(guild, day)
        if version is not None and version.code in self.agreements:
            return self.agreements[version.code]
        of_guild = [code for code in attached if catalogue.guild_of(code) == guild]
        where = f" (attached to the production: {_terms(of_guild)})" if of_guild else ""
        raise DomainError(
            f"No {guild} agreement is in force on {day}{where}.",
            code="no_agreement",
            fields={"on": f"No {guild} agreement in force on that date."},
        )


def _engaged_at(engagement: Mapping[str, Any]) -> datetime:
    """When a person counts as engaged on a production: the engagement's record or its start
    day, whichever is earlier."""
    created: datetime = engagement["created_at"]
    return min(created, datetime.combine(engagement["start_date"], time(), UTC))


def _person_facts(
    person: Mapping[str, Any], category: str, *, engaged_at: datetime | None
) -> rules.PersonFacts:
    deceased_on = (person["date_of_death"] or date.min) if person["is_deceased"] else None
    return rules.PersonFacts(
        category=category,
        deceased_on=deceased_on,
        engaged_at=engaged_at,
        has_representative=bool(person["authorized_representative"]),
    )


def _terms(codes: Iterable[str]) -> str:
    """Agreement versions with their terms, as the catalogue states them."""
    out = []
    for code in codes:
        version = catalogue.AGREEMENTS[code]
        start, end = version.effective_from, version.effective_to
        out.append(f"{code}, {start or 'no start'} to {end or 'no end'}")
    return "; ".join(out)


def _governs_note(agreement: Agreement, day: date, attached: list[str]) -> str:
    """Why a use is decided under an agreement its production does not have attached: the
    version in force on the use's date governs it (RULES.md §1)."""
    guild = catalogue.guild_of(agreement.code)
    of_guild = [code for code in attached if catalogue.guild_of(code) == guild]
    if of_guild:
        why = f"No agreement attached to this production is in force on {day} ({_terms(of_guild)})"
    else:
        why = f"No {guild} agreement is attached to this production"
    return (
        f"{why}; {agreement.code} ({agreement.name}) governs that date and decided this use: "
        "attach it to the production."
    )


def draft_facts(
    *, person: Person, production: Production, category: str, draft: Mapping[str, Any]
) -> tuple[rules.PersonFacts, rules.ConsentFacts]:
    """The facts rules.review_consent judges a consent on before it is recorded: the person as
    the check sees them on this production, and the draft's fields (`draft`, named as the
    Consent columns) as the consent it would be."""
    engagement = (
        Engagement.objects.filter(person=person, production=production)
        .order_by("created_at")
        .values("created_at", "start_date")
        .first()
    )
    person_facts = _person_facts(
        {
            "is_deceased": person.is_deceased,
            "date_of_death": person.date_of_death,
            "authorized_representative": person.authorized_representative,
        },
        category,
        engaged_at=_engaged_at(engagement) if engagement else None,
    )
    consent = rules.ConsentFacts(id="draft", production=str(production.pk), **record_facts(draft))
    return person_facts, consent


def recorded_reviews(consents: list[Consent]) -> list[rules.Review | None]:
    """rules.review_consent of each recorded consent as it stands (its person, production,
    category and agreement rows loaded), in order; None where the check cannot judge it (a
    person its agreement does not cover). One query for the engagements of them all."""
    engaged: dict[_Key, datetime] = {}
    for e in (
        Engagement.objects.filter(
            person_id__in={c.person_id for c in consents},
            production_id__in={c.production_id for c in consents},
        )
        .order_by("created_at")
        .values("person_id", "production_id", "created_at", "start_date")
    ):
        engaged.setdefault((e["person_id"], e["production_id"]), _engaged_at(e))
    out: list[rules.Review | None] = []
    for consent in consents:
        person = consent.person
        person_facts = _person_facts(
            {
                "is_deceased": person.is_deceased,
                "date_of_death": person.date_of_death,
                "authorized_representative": person.authorized_representative,
            },
            consent.category,
            engaged_at=engaged.get((consent.person_id, consent.production_id)),
        )
        facts = rules.ConsentFacts(
            id=consent.pk,
            production=str(consent.production_id),
            **record_facts({name: getattr(consent, name) for name in rules.CONSENT_RECORD_FACTS}),
        )
        try:
            out.append(rules.review_consent(consent.agreement.code, person_facts, facts))
        except rules.CheckInputError:
            out.append(None)
    return out


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
        synthetic_justification=use.synthetic_justification,
        distributed_in=tuple(use.distributed_in or ()),
        ad_exemption=use.ad_exemption or None,
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
