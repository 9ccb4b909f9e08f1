"""The SAG-AFTRA consent rules (`sag.consent.*`, RULES.md §2): creation and scans with their
notice and business reason, employment-based and new-project replica use, ICDR use, digital
alteration and its exceptions, synthetic performers, background actors, and from the 2026
agreement the strike, the synthetic performer's value and minors."""

from datetime import timedelta

from .covering import covering_consent
from .facts import SAG, ConsentFacts, UseFacts
from .findings import MINOR_WARNING, notice_recorded_finding, scan_reason_finding
from .law import ad_disclosure
from .verdict import Context, Verdict, iso


def check_sag(verdict: Verdict, ctx: Context) -> ConsentFacts | None:
    """A SAG-AFTRA use, decided into `verdict`; the consent relied on, or None."""
    use = ctx.use
    minor = ctx.person is not None and ctx.person.category == "minor"
    if ctx.year >= 2026 and minor and use.kind != "training":
        verdict.warn(MINOR_WARNING)  # sag.consent.minor is tier T, whatever decides the use
    if use.kind in ("replica_creation", "scan"):
        relied = covering_consent(
            verdict,
            ctx,
            kinds=("replica_creation",),
            rule="sag.consent.creation",
            extra=_creation_checks,
        )
    elif use.kind == "replica_use":
        engaged = ctx.person is not None and ctx.person.engaged_at is not None
        rule = "sag.consent.ebdr_use" if engaged else "sag.consent.new_project"
        relied = covering_consent(verdict, ctx, kinds=("replica_use",), rule=rule)
        _strike(verdict, ctx)
    elif use.kind == "icdr_use":
        relied = covering_consent(verdict, ctx, kinds=("icdr_use",), rule="sag.consent.icdr_use")
        _strike(verdict, ctx)
    elif use.kind == "digital_alteration":
        if use.alteration_exception:
            verdict.ok(
                "sag.consent.alteration",
                f"No consent needed: the alteration is for {use.alteration_exception} "
                "(an exception of sag.consent.alteration).",
            )
            return None
        relied = covering_consent(
            verdict, ctx, kinds=("digital_alteration",), rule="sag.consent.alteration"
        )
    elif use.kind == "synthetic_performer":
        relied = _synthetic(verdict, ctx)
    else:  # training
        verdict.reasons.append(
            "No rule of the SAG-AFTRA agreement restricts AI training on performances; the use "
            "is recorded as evidence."
        )
        return None
    if ctx.person is not None and ctx.person.category == "background" and use.kind != "training":
        rule = "sag.consent.background"
        if use.flags.counted_toward_headcount:
            verdict.fail(
                rule,
                "A background actor's replica never counts toward the required background "
                "headcount; this use was counted.",
            )
        elif verdict.failed and relied is None:
            verdict.fail(rule, "A background actor's replica needs consent like a principal's.")
        else:
            verdict.ok(rule, "A background actor's replica never counts toward headcount.")
    return relied


def _creation_checks(verdict: Verdict, ctx: Context, consent: ConsentFacts) -> bool:
    ok = _notice_48h(verdict, ctx, consent)
    if ctx.year >= 2026:
        ok = verdict.record(scan_reason_finding(consent)) and ok
    return ok


def _notice_48h(verdict: Verdict, ctx: Context, consent: ConsentFacts) -> bool:
    rule = "sag.consent.notice_48h"
    scan_at = ctx.use.at
    engaged_at = consent.engaged_at or (ctx.person.engaged_at if ctx.person else None)
    notice_at = consent.notice_at
    if notice_at is None:
        return verdict.record(notice_recorded_finding(consent))
    before = ctx.parameters.notice_before_scan
    if engaged_at is not None and engaged_at > scan_at - before:
        due, why = engaged_at, f"at engagement (engaged less than {_hours(before)} before the scan)"
    else:
        due, why = scan_at - before, f"{_hours(before)} before the scan"
    if notice_at > due:
        verdict.fail(
            rule,
            f"Notice was given at {iso(notice_at)}; it was due {why}, by {iso(due)}.",
        )
        return False
    verdict.ok(rule)
    return True


def _synthetic(verdict: Verdict, ctx: Context) -> ConsentFacts | None:
    rule = "sag.consent.synthetic"
    use = ctx.use
    notices = [
        n
        for n in ctx.union_notices
        if n.kind == "synthetic_performer"
        and n.production == use.production
        and n.given_at <= use.at
    ]
    if notices:
        verdict.ok(rule, f"The union was notified at {iso(min(n.given_at for n in notices))}.")
    else:
        verdict.fail(rule, "No notice to the union of the synthetic performer before its use.")
    if ctx.year >= 2026:
        _synthetic_value(verdict, use)
    ad_disclosure(verdict, ctx)
    if not use.flags.synthetic_source_person:
        return None
    return covering_consent(verdict, ctx, kinds=("synthetic_features",), rule=rule)


def _synthetic_value(verdict: Verdict, use: UseFacts) -> None:
    """sag.consent.synthetic_value (2026): a synthetic performer in a human role needs a recorded
    justification that it brings significant additional value."""
    if not use.flags.human_role:
        return
    rule = "sag.consent.synthetic_value"
    if use.synthetic_justification.strip():
        verdict.ok(rule)
    else:
        verdict.fail(
            rule,
            "The synthetic performer plays a human role with no recorded justification that it "
            "brings significant additional value (2026 agreement).",
        )


def _strike(verdict: Verdict, ctx: Context) -> None:
    """sag.consent.strike (2026): no replica use dated inside a strike of the performer's union."""
    if ctx.year < 2026:
        return
    rule = "sag.consent.strike"
    use = ctx.use
    for strike in ctx.strikes:
        if strike.guild != SAG:
            continue
        if strike.starts_on <= use.end.date() and (
            strike.ends_on is None or use.at.date() <= strike.ends_on
        ):
            verdict.fail(
                rule,
                f"The use falls in the SAG-AFTRA strike from {strike.starts_on}"
                + (f" to {strike.ends_on}." if strike.ends_on else " (not ended)."),
            )
            return
    verdict.ok(rule)


def _hours(period: timedelta) -> str:
    """A period as the reasons word it: "48 hours"."""
    hours = period / timedelta(hours=1)
    return f"{hours:g} hour" + ("" if hours == 1 else "s")
