"""The consent check (RULES.md §2, 2026 revision): may this use of a person's likeness, voice or
material happen in this production at this instant, and if not, which rule says no?

`check()` is a pure function of plain facts: no database, no clock. The API, the AI-use register
and the `consent_check` command all build the facts (from rows, or from a what-if file) and call
it. A decision names the consent relied on and the rule ids that decided; a refusal lists every
rule that failed, with a sentence for each. Beside them a decision carries `warnings`: advisory
rules (`law.us.no_fakes`) and T-tier rules (`sag.consent.minor`) speak there, and a warning never
refuses. `review_consent()` runs, on one consent record alone, every rule that can be judged
before any use (the admin's "check this consent" step), with the same sentences.

Semantics chosen where RULES.md is silent (each is stated in a reason when it decides):
- Instants are aware UTC datetimes; a use's date is its UTC date. A use may span a range
  [at, until]: the consent must cover all of it.
- A consent signed at or before the instant of use counts; one revoked at or before it does not
  ("revoked at the instant of use" is refused). A suspension is a revocation for a period.
- A superseded consent covers nothing: its successor is the record to rely on.
- Whether a performer is "engaged on" the production decides employment-based use
  (`sag.consent.ebdr_use`) versus use in another project (`sag.consent.new_project`). A SAG-AFTRA
  use (replica, ICDR, alteration, a synthetic performer's features) whose only consents of the
  right kind name other productions is refused citing `sag.consent.new_project`; a scan is not a
  use in another production, so a creation consent for another production fails
  `sag.consent.creation`.
- A crew scan (IATSE, `scan` or `replica_creation`) is decided by `iatse.scan_consent`;
  `iatse.ai_impact_notice` is not evaluated for it and applies to every other IATSE use. The ban on
  displacing prompts refuses any IATSE use that records one.
- The 2026 SAG-AFTRA rules (strike, business reason, synthetic value, minors) apply only under
  `sag-tvth-2026`; `wga.training_notice` only under `wga-mba-2026`.
- `non-union` (no collective agreement) takes any person and every use kind, and runs no union
  rule: a consent of the use's kind for this production must cover the use (`consent.term`,
  `consent.revoked`), then state law. A use no consent covers is refused citing `consent.term`:
  no consent covers the use's date.
- State law (`law.*`) is applied to each candidate consent, after the agreement's rules: a consent
  it makes unenforceable covers nothing, and when no candidate is left the refusal cites the law
  rule. The enforceability test (`law.ca.lab927`, `law.ny.gol5_302`, `law.il.dvlpa`) applies to a
  consent that replaces in-person work under that governing law; a CA or NY consent with no
  recorded fixing date is tested (nothing shows the performance predates the statute).
  `law.ca.civ3344_1` and `law.ny.cr50f` need the estate's consent (`representative`) for a person
  who has died, whoever signed in life; `law.ny.cr50f` has no period after death in the sources, so
  it applies to every deceased person. `law.ny.gbl396b` is a rule of the use (an advertisement
  with a synthetic performer), under any agreement. `law.us.no_fakes` warns on the consent relied
  on when it licenses a living person's likeness (not a writer's AI-use or training consent).

The agreement versions are the registry's catalogue (`ledger.registry.catalogue`, RULES.md §1);
the check's fixed periods and the statutes' dates are dated parameters (`parameters.json` beside
this package, read with `core.dated`), taken as of the date each rule looks at.

The package, one concern a module, each importing only those listed before it: `facts` (the
vocabulary, the facts and the answers), `parameters` (the dated parameters), `verdict` (what a
check collects as it runs), `findings` (the rules judged on a consent alone), `law` (state law and
the NO FAKES advisory), `covering` (one consent covering one use), `sag`, `wga`, `iatse` and
`non_union` (each agreement's rules), and `decide` (check() and review_consent()).
"""

from .decide import (
    check,
    review_consent,
)
from .facts import (
    AD_EXEMPTIONS,
    ALTERATION_EXCEPTIONS,
    CAPACITIES,
    CATEGORIES,
    CATEGORY_GUILD,
    CONSENT_KINDS,
    CONSENT_RECORD_FACTS,
    GUILD_USE_KINDS,
    IATSE,
    INSTRUMENTS,
    NEW_PROJECT_KINDS,
    NON_UNION,
    NON_UNION_CONSENT_KINDS,
    REGION_CODE,
    REPRESENTED_BY,
    SAG,
    SUBDIVISION_CODE,
    UNION_NOTICE_KINDS,
    USE_FLAGS,
    USE_KINDS,
    WGA,
    CheckInputError,
    ConsentFacts,
    Decision,
    DisclosureFacts,
    Facts,
    Finding,
    PersonFacts,
    Review,
    StrikeFacts,
    UnionNoticeFacts,
    UseFacts,
    UseFlags,
    Warning,
)
from .findings import (
    MINOR_WARNING,
    is_specific,
)
from .law import (
    LIKENESS_KINDS,
)
from .parameters import (
    PARAMETERS_FILE,
    RuleParameters,
    shipped_parameters,
)

__all__ = [
    "AD_EXEMPTIONS",
    "ALTERATION_EXCEPTIONS",
    "CAPACITIES",
    "CATEGORIES",
    "CATEGORY_GUILD",
    "CONSENT_KINDS",
    "CONSENT_RECORD_FACTS",
    "CheckInputError",
    "ConsentFacts",
    "Decision",
    "DisclosureFacts",
    "Facts",
    "Finding",
    "GUILD_USE_KINDS",
    "IATSE",
    "INSTRUMENTS",
    "LIKENESS_KINDS",
    "MINOR_WARNING",
    "NEW_PROJECT_KINDS",
    "NON_UNION",
    "NON_UNION_CONSENT_KINDS",
    "PARAMETERS_FILE",
    "PersonFacts",
    "REGION_CODE",
    "REPRESENTED_BY",
    "Review",
    "RuleParameters",
    "SAG",
    "SUBDIVISION_CODE",
    "StrikeFacts",
    "UNION_NOTICE_KINDS",
    "USE_FLAGS",
    "USE_KINDS",
    "UnionNoticeFacts",
    "UseFacts",
    "UseFlags",
    "WGA",
    "Warning",
    "check",
    "is_specific",
    "review_consent",
    "shipped_parameters",
]
