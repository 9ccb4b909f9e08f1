"""The schedules of periodic work (django-celery-beat) in the staff admin, without raw JSON.

django-celery-beat keeps a task's positional and keyword arguments and its message headers as
JSON text and has them typed in as JSON. Every task this system schedules (the compliance reports,
the dispatch sweep) takes no arguments, so the pages here show them in words or as a small table
(core.admin.display) and do not offer them for editing; administrators still change everything
that makes a schedule: the task, whether it is enabled, its interval, crontab, solar or clocked
schedule, its start, expiry and queue. A new schedule starts with no arguments and no headers.
"""

import json
from typing import Any

from django.contrib import admin
from django.utils.safestring import SafeString
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from core.admin import display
from core.admin.base import SafeLookupsMixin

JSON_TEXT_FIELDS = ("args", "kwargs", "headers")


def json_text_in_words(text: str | None) -> SafeString | str:
    """A JSON text field's value as words, a list or a small table; "none" when empty."""
    if not (text or "").strip():
        return display.NONE
    try:
        value: Any = json.loads(text or "")
    except (ValueError, RecursionError):
        return "not readable as arguments (fix them where the schedule is created)"
    if value in ([], {}, None):
        return display.NONE
    return display.structured(value)


class ArgumentsInWordsMixin:
    @admin.display(description="arguments")
    def arguments_shown(self, obj):
        return json_text_in_words(obj.args)

    @admin.display(description="keyword arguments")
    def keyword_arguments_shown(self, obj):
        return json_text_in_words(obj.kwargs)

    @admin.display(description="message headers")
    def headers_shown(self, obj):
        return json_text_in_words(obj.headers)


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    class Meta(beat_admin.PeriodicTaskForm.Meta):
        exclude = JSON_TEXT_FIELDS


class PeriodicTaskAdmin(ArgumentsInWordsMixin, SafeLookupsMixin, beat_admin.PeriodicTaskAdmin):
    form = PeriodicTaskForm
    fieldsets = (
        (None, {"fields": ("name", "regtask", "task", "enabled", "description")}),
        (
            "Schedule",
            {
                "fields": (
                    "interval",
                    "crontab",
                    "crontab_translation",
                    "solar",
                    "clocked",
                    "start_time",
                    "last_run_at",
                    "one_off",
                )
            },
        ),
        ("Arguments", {"fields": ("arguments_shown", "keyword_arguments_shown")}),
        (
            "Execution options",
            {
                "fields": (
                    "expires",
                    "expire_seconds",
                    "queue",
                    "exchange",
                    "routing_key",
                    "priority",
                    "headers_shown",
                ),
                "classes": ("collapse",),
            },
        ),
    )
    readonly_fields = (
        "last_run_at",
        "crontab_translation",
        "arguments_shown",
        "keyword_arguments_shown",
        "headers_shown",
    )


class PeriodicTaskInline(ArgumentsInWordsMixin, beat_admin.PeriodicTaskInline):
    fields = ("name", "task", "arguments_shown", "keyword_arguments_shown")
    readonly_fields = fields


class ClockedScheduleAdmin(SafeLookupsMixin, beat_admin.ClockedScheduleAdmin):
    inlines = [PeriodicTaskInline]


class CrontabScheduleAdmin(SafeLookupsMixin, beat_admin.CrontabScheduleAdmin):
    inlines = [PeriodicTaskInline]


class SolarScheduleAdmin(SafeLookupsMixin, beat_admin.SolarScheduleAdmin):
    inlines = [PeriodicTaskInline]


class IntervalScheduleAdmin(SafeLookupsMixin, beat_admin.IntervalScheduleAdmin):
    inlines = [PeriodicTaskInline]


BEAT_ADMINS: dict[type, type] = {
    PeriodicTask: PeriodicTaskAdmin,
    ClockedSchedule: ClockedScheduleAdmin,
    CrontabSchedule: CrontabScheduleAdmin,
    SolarSchedule: SolarScheduleAdmin,
    IntervalSchedule: IntervalScheduleAdmin,
}


def register_beat_admins(site=admin.site) -> None:
    """Put these pages in place of django-celery-beat's own (where the site has them)."""
    for model, model_admin in BEAT_ADMINS.items():
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
