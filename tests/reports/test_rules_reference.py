"""The rules reference: the rule books hold every rule id the code and the rule cases cite (and
cite nothing the code does not compute unless marked so), the reference shows each rule's dated
values with their tiers and sources, docs/rules.md matches a fresh generation, `manage.py
rules_reference --check` fails on a stale file, and the admin page renders for studio and guild
staff."""

import ast
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from compensation.rules import rule_book as compensation_book
from consent.rules import rule_book as consent_book
from reports import rules_reference
from tests.factories import StudioFactory, UserFactory, guild_staff, studio_staff

ROOT = Path(__file__).resolve().parents[2]
RULE_ID = re.compile(r"(?:sag|wga|iatse|consent|law|residual)(?:\.[a-z0-9_]+)+")
CODE_DIRS = ("consent", "compensation", "reports")
BOOK_FILES = {Path(consent_book.__file__).resolve(), Path(compensation_book.__file__).resolve()}
CASE_DIRS = (ROOT / "tests" / "consent" / "cases", ROOT / "tests" / "compensation" / "cases")
BOOK = {rule.id: rule for rule in rules_reference.rule_books()}


def _django_names() -> set[str]:
    """Model labels and permission names (`consent.aiuse`, `consent.view_consent`): dotted
    strings in the code that are not rule ids."""
    names = set()
    for model in apps.get_models():
        opts = model._meta
        names.add(opts.label_lower)
        names |= {f"{opts.app_label}.{a}_{opts.model_name}" for a in opts.default_permissions}
        names |= {f"{opts.app_label}.{codename}" for codename, _ in opts.permissions}
    return names


def _parameter_names() -> set[str]:
    declared = {name for rule in BOOK.values() for name in rule.parameters}
    return declared | set(rules_reference.shipped_series())


def cited_rule_ids() -> dict[str, set[str]]:
    """Every rule id cited: string literals of the code (outside the rule books) that read as a
    rule id and name no parameter, model or permission; the `rule` of every shipped parameter;
    the name of every rule-case file. Each id -> where it is cited."""
    not_rules = _parameter_names() | _django_names()
    cited: dict[str, set[str]] = {}
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or path.resolve() in BOOK_FILES:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                text = node.value if isinstance(node, ast.Constant) else None
                if isinstance(text, str) and RULE_ID.fullmatch(text) and text not in not_rules:
                    cited.setdefault(text, set()).add(str(path.relative_to(ROOT)))
    for name, series in rules_reference.shipped_series().items():
        cited.setdefault(series.rule, set()).add(f"parameter {name}")
    for folder in CASE_DIRS:
        for path in sorted(folder.glob("*.json")):
            cited.setdefault(path.stem, set()).add(str(path.relative_to(ROOT)))
    return cited


def test_every_cited_rule_id_is_in_a_rule_book():
    missing = {rule: sorted(where) for rule, where in cited_rule_ids().items() if rule not in BOOK}
    assert not missing, (
        f"rule ids cited but in no rule book (consent/rules/rule_book.py, "
        f"compensation/rules/rule_book.py); a parameter name belongs in its rule's parameters: "
        f"{missing}"
    )


def test_every_implemented_rule_is_cited_and_no_unimplemented_one_is():
    cited = cited_rule_ids()
    uncited = sorted(r.id for r in BOOK.values() if r.implemented and r.id not in cited)
    stale = sorted(r.id for r in BOOK.values() if not r.implemented and r.id in cited)
    assert not uncited, f"rules in a rule book that no code or case cites: {uncited}"
    assert not stale, f"rules marked not computed yet that the code cites: {stale}"


def test_the_rule_books_hold_each_id_once_in_a_known_family():
    ids = [rule.id for rule in rules_reference.rule_books()]
    assert len(ids) == len(set(ids))
    assert {r.family for r in BOOK.values()} <= set(consent_book.FAMILIES)
    assert all(RULE_ID.fullmatch(rule_id) for rule_id in ids)
    assert all(r.text and r.title and r.source.startswith("RULES.md") for r in BOOK.values())


def test_the_residual_rules_are_listed_and_computed():
    residuals = [r for r in BOOK.values() if ".residual." in r.id or r.id.startswith("residual.")]
    assert len(residuals) == 9
    assert all(r.implemented for r in residuals)


def _rule(reference, rule_id):
    return next(e for f in reference.families for e in f.rules if e.rule.id == rule_id)


def _parameter(entry, name):
    return next(p for p in entry.parameters if p.name == name)


def test_a_rule_shows_the_dated_values_of_what_it_reads():
    reference = rules_reference.build()
    day = _parameter(_rule(reference, "sag.pay.day"), "sag.minimum.day_performer")
    first, second = day.values[:2]
    assert (first.in_force, first.value, first.unit, first.tier) == (
        "before 2023-11-09",
        "1082",
        "USD/day",
        "S",
    )
    assert (second.in_force, second.value, second.tier) == ("from 2023-11-09", "1158", "D")
    assert "abspayroll.com" in first.source
    notice = _parameter(
        _rule(reference, "sag.consent.notice_48h"), "sag.consent.notice_before_scan"
    )
    assert [(v.in_force, v.value, v.unit, v.tier) for v in notice.values] == [
        ("start not given", "48", "hours", "P")
    ]


def test_a_value_not_known_asks_for_a_rate_sheet():
    reference = rules_reference.build()
    cap = _parameter(_rule(reference, "sag.ph"), "sag.ph.cap.tv.2_hours")
    assert [(v.in_force, v.value, v.unit) for v in cap.values][-1] == (
        "from 2024-07-01",
        rules_reference.NOT_KNOWN,
        "",
    )
    scale = _parameter(_rule(reference, "iatse.pay.hourly"), "iatse.scale.<classification>")
    assert scale.values == () and rules_reference.NOT_KNOWN in scale.note


def test_rules_are_grouped_by_family_with_the_catalogue():
    reference = rules_reference.build()
    keys = [f.key for f in reference.families]
    assert keys == ["sag-aftra", "wga", "iatse", "law", "all"]
    family_of = {e.rule.id: f.key for f in reference.families for e in f.rules}
    assert family_of["law.ca.lab927"] == "law"
    assert family_of["consent.revoked"] == "all"
    assert family_of["wga.ph"] == "wga"
    assert sum(len(f.rules) for f in reference.families) == len(BOOK)
    assert "sag-tvth-2026" in [a.code for a in reference.agreements]


def test_the_markdown_is_the_same_on_every_generation():
    text = rules_reference.markdown()
    assert text == rules_reference.markdown()
    assert "### `law.ny.gbl396b`" in text and "| from 2023-11-09 | 1158 | USD/day | D |" in text


def test_docs_rules_md_is_up_to_date():
    assert not rules_reference.stale(), (
        f"{rules_reference.REFERENCE_FILE.relative_to(ROOT)} is stale: regenerate it with "
        f"`{rules_reference.REGENERATE}` and commit it."
    )


def test_the_command_writes_the_file_and_check_fails_when_it_is_stale(tmp_path, monkeypatch):
    target = tmp_path / "docs" / "rules.md"
    monkeypatch.setattr(rules_reference, "REFERENCE_FILE", target)
    with pytest.raises(SystemExit) as missing:
        call_command("rules_reference", "--check", stderr=StringIO())
    assert missing.value.code == 1
    call_command("rules_reference", stdout=StringIO())
    assert target.read_text(encoding="utf-8") == rules_reference.markdown()
    out = StringIO()
    call_command("rules_reference", "--check", stdout=out)
    assert "up to date" in out.getvalue()
    target.write_text(target.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(SystemExit) as stale:
        call_command("rules_reference", "--check", stderr=err)
    assert stale.value.code == 1
    assert "stale" in err.getvalue() and rules_reference.REGENERATE in err.getvalue()


# --- the admin page -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["studio", "guild"])
def test_the_admin_page_shows_rules_values_and_sources_to_staff(client, who):
    user = studio_staff(StudioFactory(), "maya") if who == "studio" else guild_staff("wga", "wes")
    client.force_login(user)
    page = client.get(reverse("admin:reports_rules_reference"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<code>sag.pay.day</code>" in html
    assert "1158 USD/day" in html and "abspayroll.com" in html
    assert rules_reference.NOT_KNOWN in html
    assert 'name="viewport"' in html  # the admin's own, for a phone-sized screen
    assert (
        reverse("admin:reports_rules_reference")
        in client.get(reverse("admin:index")).content.decode()
    )


@pytest.mark.django_db
def test_the_admin_page_is_for_staff_only(client):
    url = reverse("admin:reports_rules_reference")
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(username="outsider", is_staff=False))
    assert client.get(url).status_code == 302
