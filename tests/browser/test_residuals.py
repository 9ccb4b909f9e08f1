"""Residuals in the browser, on the demo: studio staff open the demo's residual run of Harbor
Nights, read its lines (payees by name and fund, amounts with separators and currency, due
dates), follow a person's residual statement; SAG-AFTRA staff see the run with the performers'
lines only. Pages are saved as screenshots on a laptop (1366 px) and a phone (390 px)."""

import re

import pytest
from playwright.sync_api import expect

from compensation.models import CompensationRun
from ledger.models import Person

from .conftest import log_in, no_horizontal_scroll, screenshot

pytestmark = [pytest.mark.postgres]

PHONE = {"width": 390, "height": 844}


def test_studio_staff_read_a_residual_run_and_a_statement(demo, page):
    run = CompensationRun.objects.get(kind="residuals")
    ava = Person.objects.get(legal_name="Ava Delgado")
    log_in(page, "meridian")

    page.goto("/admin/compensation/residualrun/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Harbor Nights")
    rows.first.locator("th a").click()
    expect(page).to_have_url(re.compile(rf"/admin/compensation/residualrun/{run.pk}/change/$"))
    body = page.locator("#content")
    expect(body).to_contain_text("approved")
    expect(body).to_contain_text("SAG-AFTRA Pension and Health (for Ava Del)")
    expect(body).to_contain_text("Rosa Lin")
    expect(body).to_contain_text("USD")
    expect(body).to_contain_text(re.compile(r"\d,\d{3}\.\d{2} USD"))
    expect(body).to_contain_text("rate_missing")  # the WGA Health Fund rate of 2026
    expect(body).to_contain_text("supplemental markets")  # the exhibition it stopped
    screenshot(page, "residual-run-studio")
    page.set_viewport_size(PHONE)
    screenshot(page, "residual-run-studio-phone")
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto(f"/admin/ledger/person/{ava.pk}/change/")
    page.get_by_role("link", name=re.compile("Residual statement")).click()
    statement = page.locator("#content")
    expect(statement).to_contain_text("Harbor Nights")
    expect(statement).to_contain_text(re.compile(r"\d,\d{3}\.\d{2} USD"))
    assert no_horizontal_scroll(page)
    screenshot(page, "residual-statement")
    page.set_viewport_size(PHONE)
    screenshot(page, "residual-statement-phone")


def test_guild_staff_see_their_guilds_lines_of_a_residual_run(demo, page):
    run = CompensationRun.objects.get(kind="residuals")
    log_in(page, "sag")
    page.goto(f"/admin/compensation/residualrun/{run.pk}/change/")
    body = page.locator("#content")
    expect(body).to_contain_text("Ava")
    expect(body).not_to_contain_text("Rosa Lin")
    screenshot(page, "residual-run-guild")
