"""One consent covering one use (RULES.md §2): among the person's consents of the right kinds for
this production, the newest one that is not superseded, was signed by the use, runs over the
use's dates (`consent.term`), is neither revoked nor suspended (`consent.revoked`), passes the
agreement's form rules and survives state law. When none covers, every rule that failed for a
candidate is reported."""

from .facts import NEW_PROJECT_KINDS, SAG, ConsentFacts, PersonFacts, UseFacts
from .findings import deceased_finding, minor_finding, separate_finding, specific_finding
from .law import no_fakes_warning, state_law_findings
from .verdict import Context, Extra, Verdict, iso


def covering_consent(
    verdict: Verdict,
    ctx: Context,
    *,
    kinds: tuple[str, ...],
    rule: str,
    extra: Extra | None = None,
    sag_form: bool = True,
    separate_rule: str | None = "sag.consent.separate",
) -> ConsentFacts | None:
    """The consent of one of `kinds` for this production that covers the use, or None.

    Every candidate is examined; when none covers, every rule that failed for a candidate is
    reported. `sag_form` adds the SAG-AFTRA form rules (specificity, deceased performer, minor);
    `separate_rule` names the rule that refuses a consent buried in standard terms, if any. State
    law applies to every candidate; the NO FAKES advisory to the consent relied on."""
    use = ctx.use
    of_kind = [c for c in ctx.consents if c.kind in kinds]
    candidates = [c for c in of_kind if c.production == use.production]
    if not candidates:
        _no_consent(verdict, ctx, kinds, rule, sorted({c.production for c in of_kind}))
        return None
    live = [c for c in candidates if c.superseded_by is None]
    for c in candidates:
        if c.superseded_by is not None:
            verdict.reasons.append(f"Consent {c.id} was superseded by {c.superseded_by}.")
    if not live:
        verdict.fail(rule, "Every consent for this use was superseded and covers nothing.")
        return None
    trials = []
    for consent in sorted(live, key=lambda c: (c.signed_at, c.id), reverse=True):
        trial = Verdict()
        if _consent_covers(trial, ctx, consent, rule, extra, sag_form, separate_rule):
            for passed in trial.passed:
                verdict.ok(passed)
            verdict.reasons.append(f"Covered by consent {consent.id}.")
            for warning in trial.warnings:
                verdict.warn(warning)
            advisory = no_fakes_warning(ctx.person, consent, ctx.parameters)
            if advisory is not None:
                verdict.warn(advisory)
            return consent
        trials.append(trial)
    for trial in trials:
        for failed in trial.failed:
            if failed not in verdict.failed:
                verdict.failed.append(failed)
        verdict.reasons.extend(trial.reasons)
        for warning in trial.warnings:
            verdict.warn(warning)
    return None


def _no_consent(
    verdict: Verdict, ctx: Context, kinds: tuple[str, ...], rule: str, elsewhere: list[str]
) -> None:
    """No consent of `kinds` names this production: a SAG-AFTRA use whose consents name only
    other productions needs its own (sag.consent.new_project); with no collective agreement no
    consent covers the use's date (consent.term)."""
    what = f"No {' or '.join(kinds)} consent for this production"
    where = f" (only for {', '.join(elsewhere)})" if elsewhere else ""
    if ctx.guild is None:
        verdict.fail(rule, f"No consent covers the use's date: {what[0].lower()}{what[1:]}{where}.")
    elif ctx.guild == SAG and elsewhere and set(kinds) & set(NEW_PROJECT_KINDS):
        verdict.fail(
            "sag.consent.new_project",
            f"{what}{where}: a use in another production needs its own consent for this "
            "production.",
        )
    else:
        verdict.fail(rule, f"{what}{where}.")


def _consent_covers(
    verdict: Verdict,
    ctx: Context,
    consent: ConsentFacts,
    rule: str,
    extra: Extra | None,
    sag_form: bool,
    separate_rule: str | None,
) -> bool:
    use = ctx.use
    ok = True
    if consent.signed_at <= use.at:
        verdict.ok(rule)
    else:
        verdict.fail(
            rule, f"Consent {consent.id} was signed after the use, at {iso(consent.signed_at)}."
        )
        ok = False
    if separate_rule is not None:
        ok = verdict.record(separate_finding(consent, separate_rule)) and ok
    if sag_form:
        ok = verdict.record(specific_finding(consent)) and ok
        deceased = deceased_finding(ctx.person, consent)
        if deceased is not None:
            ok = verdict.record(deceased, state_pass=True) and ok
        if ctx.year >= 2026:
            ok = _minor(verdict, ctx.person, consent) and ok
    ok = _term(verdict, use, consent) and ok
    ok = _not_withdrawn(verdict, use, consent) and ok
    if extra is not None:
        ok = extra(verdict, ctx, consent) and ok
    for finding in state_law_findings(
        ctx.guild, ctx.person, consent, use.at.date(), ctx.parameters
    ):
        ok = verdict.record(finding, state_pass=True) and ok
    return ok


def _term(verdict: Verdict, use: UseFacts, consent: ConsentFacts) -> bool:
    first, last = use.at.date(), use.end.date()
    if first < consent.term_from or (consent.term_to is not None and last > consent.term_to):
        verdict.fail(
            "consent.term",
            f"Consent {consent.id} runs from {consent.term_from} to "
            f"{consent.term_to or 'no end'}; the use is dated {first}"
            + (f" to {last}." if last != first else "."),
        )
        return False
    verdict.ok("consent.term")
    return True


def _not_withdrawn(verdict: Verdict, use: UseFacts, consent: ConsentFacts) -> bool:
    rule = "consent.revoked"
    if consent.revoked_at is not None and consent.revoked_at <= use.end:
        verdict.fail(
            rule,
            f"Consent {consent.id} was revoked at {iso(consent.revoked_at)}, at or before the use.",
        )
        return False
    for start, end in consent.suspensions:
        if start <= use.end and (end is None or end > use.at):
            verdict.fail(
                rule,
                f"Consent {consent.id} is suspended from {iso(start)}"
                + (f" to {iso(end)}." if end else " (not resumed)."),
            )
            return False
    verdict.ok(rule)
    return True


def _minor(verdict: Verdict, person: PersonFacts | None, consent: ConsentFacts) -> bool:
    """sag.consent.minor (2026, tier T) on one consent; its warning is check_sag's."""
    finding = minor_finding(person, consent)
    return True if finding is None else verdict.record(finding)
