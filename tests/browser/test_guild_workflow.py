"""Guild staff in the browser: a WGA representative signs in with the keyboard, sees only the
productions under WGA agreements (on the dashboard, in the list, and a 404 for another), flags
one for follow-up with the keyboard alone, and the studio sees the open flag on its dashboard.
Then every demo login's dashboard is checked on a laptop screen and saved as a screenshot."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from ledger import access
from ledger.models import Production
from reports.models import Flag

from .conftest import broken_words, log_in, no_horizontal_scroll, screenshot

pytestmark = [pytest.mark.postgres]

LOGINS = ["admin", "meridian", "northgate", "sag", "wga"]
NOTE = "Scene 14 was altered after the revocation of 2025-07-01: please confirm it was cut."


def _wga_productions():
    return set(Production.objects.filter(agreements__guild__code="wga").distinct())


def test_guild_staff_see_their_productions_and_flag_one(demo, page):
    mine = _wga_productions()
    others = set(Production.objects.all()) - mine
    assert mine and others  # the demo has productions on both sides
    film = Production.objects.get(title="The Long Light")

    log_in(page, "wga")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    dashboard = page.locator("table#dashboard")
    for production in mine | others:
        row = dashboard.locator(f'tr[data-production="{production.pk}"]')
        expect(row).to_have_count(1 if production in mine else 0)
    assert no_horizontal_scroll(page)
    screenshot(page, "dashboard-guild")

    page.goto("/admin/ledger/production/")
    titles = page.locator("#result_list tbody tr th a")
    expect(titles).to_have_text(sorted(p.title for p in mine), ignore_case=False)
    other = next(iter(others))
    assert page.goto(f"/admin/ledger/production/{other.pk}/change/").status == 404

    flag_with_the_keyboard(page, film)
    flag = Flag.objects.get()
    assert (flag.production, flag.guild.code, flag.raised_by.username) == (film, "wga", "wga")
    assert flag.note == NOTE and flag.is_open
    expect(page.locator("#result_list")).to_contain_text(NOTE)

    # The studio sees the open flag on its dashboard, linked to the list of its flags.
    page.context.clear_cookies()
    log_in(page, "meridian")
    cell = page.locator(f'tr[data-production="{film.pk}"] td[data-measure="flags"] a')
    expect(cell).to_have_text("1")
    cell.click()
    expect(page.locator("#result_list")).to_contain_text(NOTE)


def flag_with_the_keyboard(page, production):
    """From the production's page, "Flag for follow-up"; the note is typed and the form saved
    with the keyboard alone (Tab from the note reaches Save; Enter presses it)."""
    page.goto(f"/admin/ledger/production/{production.pk}/change/")
    page.get_by_role("link", name="Flag for follow-up").click()
    expect(page).to_have_url(re.compile(rf"/admin/reports/flag/add/\?production={production.pk}$"))
    note = page.get_by_label("Note")
    note.focus()
    page.keyboard.type(NOTE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "Save"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/reports/flag/"))
    expect(page.locator(".errornote")).to_have_count(0)


def test_every_dashboard_fits_a_laptop_screen(demo, page):
    """Each demo login's dashboard lists exactly the productions in its scope and fits a
    1366x768 window: no sideways scrolling, no word broken in the middle by a narrow column.
    Saved as dashboard-<login>.png."""
    for user in get_user_model().objects.filter(username__in=LOGINS).order_by("username"):
        in_scope = access.productions(access.scope_for(user)).distinct()
        page.context.clear_cookies()
        log_in(page, user.username)
        rows = page.locator("table#dashboard tbody tr[data-production]")
        expect(rows).to_have_count(in_scope.count())
        shown = rows.evaluate_all("rows => rows.map(row => Number(row.dataset.production))")
        assert sorted(shown) == sorted(p.pk for p in in_scope), user.username
        assert no_horizontal_scroll(page), user.username
        assert broken_words(page, "table#dashboard th, table#dashboard td") == [], user.username
        screenshot(page, f"dashboard-{user.username}")
