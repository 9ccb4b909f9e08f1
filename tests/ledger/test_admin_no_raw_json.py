"""Staff never read raw JSON: every admin list and the first row's change page of every
registered model, on the demo data, as the administrator and as studio staff, shows meals, flags,
fringes, rates used and rule lists in words and tables, never as a JSON (or Python) literal. The
schedules of periodic work (django-celery-beat) too: a task's arguments are shown in words, and
administrators still edit the schedule itself.

The check reads the page as a person sees it (text, not tags, attributes or scripts). A control
renders a payable's fringes the way Django's admin does by default and proves the check finds it.
This test is not marked for one database: it runs on the SQLite and the PostgreSQL pass."""

import html
import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from core.admin import display
from ledger.models import Payable

pytestmark = pytest.mark.django_db

# What no page's visible text holds: the opening of a JSON or Python list or object literal, or
# an empty one.
RAW_LITERAL = re.compile(r"""\[\s*[\[{"'\]]|\{\s*["'}]""")
HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
TAG = re.compile(r"<[^>]*>")


def visible_text(page: str) -> str:
    """The page's text as a browser shows it: no scripts, styles, comments, tags or attributes."""
    return html.unescape(TAG.sub(" ", HIDDEN.sub(" ", page)))


def raw_literals(page: str) -> list[str]:
    """Each place in the visible text that opens a JSON or Python literal, with some context."""
    text = visible_text(page)
    return [text[max(m.start() - 40, 0) : m.end() + 40] for m in RAW_LITERAL.finditer(text)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def json_fields(model) -> list[str]:
    return [f.name for f in model._meta.get_fields() if isinstance(f, models.JSONField)]


def first_row(model):
    """The row whose JSON is most telling: one with every JSON field filled, if there is one."""
    rows = model._default_manager.order_by("pk")
    for name in json_fields(model):
        filled = rows.exclude(**{name: []}).exclude(**{name: {}})
        if filled.exists():
            rows = filled
    return rows.first()


def admin_pages() -> list[str]:
    """Every registered model's list and, where the demo has one, its first row's change page."""
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        try:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        except NoReverseMatch:
            continue
        row = first_row(model)
        if row is not None:
            name = f"admin:{opts.app_label}_{opts.model_name}_change"
            pages.append(reverse(name, args=[row.pk]))
    return pages


def assert_no_raw_json(client, username: str) -> int:
    client.force_login(get_user_model().objects.get(username=username))
    shown = 0
    found = {}
    for url in admin_pages():
        response = client.get(url)
        if response.status_code != 200:
            continue  # out of this user's scope (404) or permissions (403): nothing shown
        shown += 1
        if hits := raw_literals(response.content.decode()):
            found[url] = [" ".join(hit.split()) for hit in hits[:3]]
    assert not found, "\n".join(f"{url}: {hits}" for url, hits in found.items())
    return shown


def test_the_check_finds_json_rendered_the_default_way(demo):
    """Control: Django's own read-only rendering of a JSON field is caught."""
    # The demo's contributions are payables of their own; a payable written before that noted
    # them as JSON, as this copy of a demo payable does.
    demo_payable = Payable.objects.filter(fund="").order_by("pk").first()
    assert demo_payable is not None, "the demo posts payables"
    payable = Payable.objects.create(
        **{
            f.attname: getattr(demo_payable, f.attname)
            for f in Payable._meta.concrete_fields
            if not f.primary_key
        }
        | {
            "source_id": "before-fund-payables",
            "fringes": [{"fund": "sag-aftra-ph", "rule": "sag.ph", "amount": "210.00"}],
        }
    )

    class DefaultPayableAdmin(admin.ModelAdmin):
        readonly_fields = ["fringes"]
        fields = ["fringes"]

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="admin")
    page = DefaultPayableAdmin(Payable, admin.AdminSite()).change_view(request, str(payable.pk))
    assert raw_literals(page.rendered_content)
    assert raw_literals('<td>{"fund": "pension"}</td>') and raw_literals("<p>['late']</p>")
    assert not raw_literals('<a data-x=\'["a"]\' title="[[1]]">13:00–13:30</a>')
    assert not raw_literals('<script>var x = [["13:00", "13:30"]];</script>')


def shown_as_is(model_admin, request, obj) -> set[str]:
    """The fields a page shows by Django's default rendering: a list's columns, the read-only
    fields of the object page and of its inlines, by their model field's own name."""
    names = set(model_admin.get_list_display(request))
    names |= set(model_admin.get_readonly_fields(request, obj))
    if not model_admin.has_change_permission(request, obj):  # a view-only page shows them all
        names |= set(flatten_fieldsets(model_admin.get_fieldsets(request, obj)))
    for inline in model_admin.get_inline_instances(request, obj):
        names |= {f"{inline.model.__name__}.{n}" for n in inline.get_readonly_fields(request, obj)}
    return names


def test_no_admin_shows_a_json_field_by_its_own_name(demo):
    """Every JSON field (with data in the demo or not: webhook payloads, erasure records) is shown
    through a display method, never as Django's default rendering, which is the raw JSON."""
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="admin")
    raw = []
    for model, model_admin in admin.site._registry.items():
        obj = first_row(model)  # None where the demo has no row: the add page's fields
        shown = shown_as_is(model_admin, request, obj)
        raw += [f"{model.__name__}.{n}" for n in json_fields(model) if n in shown]
        for inline in model_admin.get_inline_instances(request, obj):
            names = {f"{inline.model.__name__}.{n}" for n in json_fields(inline.model)}
            raw += sorted(names & shown)
    assert raw == []


def test_neither_the_administrator_nor_studio_staff_see_raw_json(demo, client):
    assert assert_no_raw_json(client, "admin") > 60
    assert assert_no_raw_json(client, "meridian") > 30


def test_the_renderers_speak_words_and_escape_data():
    assert (
        display.meal_periods([["13:00", "13:30"], ["18:00", "18:30"]]) == "13:00–13:30, 18:00–18:30"
    )
    assert (
        display.flag_labels(["needs_confirmation", "below-scale"])
        == "needs confirmation, below scale"
    )
    table = display.fringe_table([{"fund": "<b>ph</b>", "rule": "sag.ph", "amount": "1.00"}], "USD")
    assert "&lt;b&gt;ph&lt;/b&gt;" in table and "<td>1.00 USD</td>" in table
    document = display.structured({"a_b": {"c": [1, 2]}, "d": None, "e": [{"f": True}]})
    assert document == (
        "<dl><dt>a b</dt><dd><dl><dt>c</dt><dd>1, 2</dd></dl></dd><dt>d</dt><dd>—</dd>"
        "<dt>e</dt><dd><ol><li><dl><dt>f</dt><dd>yes</dd></dl></li></ol></dd></dl>"
    )
    assert not raw_literals(document) and display.comma_list([]) == "none"


def test_the_schedule_pages_show_arguments_in_words_and_still_edit_schedules(client):
    """A periodic task's page, its add page and a schedule's page (with its tasks inline) show
    the arguments as words or a table, and offer no JSON to type; the administrator still changes
    the schedule, and the arguments are kept as they were."""
    root = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(root)
    crontab = CrontabSchedule.objects.create(minute="0", hour="6", day_of_week="1")
    task = PeriodicTask.objects.create(
        name="Weekly compliance report",
        task="reports.tasks.weekly_production_reports",
        crontab=crontab,
        args='["meridian", 7]',
        kwargs='{"guild": "sag-aftra", "weeks": [1, 2]}',
    )
    pages = {
        "task": reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]),
        "add": reverse("admin:django_celery_beat_periodictask_add"),
        "crontab": reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk]),
        "list": reverse("admin:django_celery_beat_periodictask_changelist"),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert raw_literals(response.content.decode()) == [], name
        assert 'name="args"' not in response.content.decode(), name
        assert 'name="kwargs"' not in response.content.decode(), name
    shown = visible_text(client.get(pages["task"]).content.decode())
    assert "meridian, 7" in shown and "sag-aftra" in shown and "1, 2" in shown
    assert "meridian, 7" in visible_text(client.get(pages["crontab"]).content.decode())

    other = CrontabSchedule.objects.create(minute="30", hour="7", day_of_week="*")
    response = client.post(
        pages["task"],
        {
            "name": task.name,
            "regtask": "",
            "task": task.task,
            "enabled": "",
            "description": "Moved to 07:30 every day.",
            "crontab": other.pk,
            "start_time_0": "",
            "start_time_1": "",
            "expires_0": "",
            "expires_1": "",
        },
    )
    assert response.status_code == 302, visible_text(response.content.decode())[-3000:]
    task.refresh_from_db()
    assert (task.crontab, task.enabled, task.description) == (
        other,
        False,
        "Moved to 07:30 every day.",
    )
    assert (task.args, task.kwargs) == (
        '["meridian", 7]',
        '{"guild": "sag-aftra", "weeks": [1, 2]}',
    )
