"""The reporting layer's additions to every admin page: the dashboard on the index and the
"Flag for follow-up" link on the pages of what a guild may flag. They live here, in the top
layer, so that the apps below need not know that flags or dashboards exist."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from ledger import access

from .. import dashboard as dashboards
from .. import services

register = template.Library()


@register.inclusion_tag("reports/dashboard.html", takes_context=True)
def guild_dashboard(context):
    request = context["request"]
    scope = access.request_scope(request)
    now = timezone.now()
    rows = dashboards.dashboard(scope, now=now)
    return {
        "show": not scope.is_empty and scope.payroll_key is None,
        "rows": [
            (state.production, [(key, state.cells[key]) for key, _ in dashboards.MEASURES])
            for state in rows
        ],
        "measures": dashboards.MEASURES,
        "now": now,
        "who": _who(scope),
        "expiry_days": dashboards.compliance.EXPIRY_WINDOW.days,
        "charts": dashboards.dashboard_charts(scope, now=now),
    }


def _who(scope) -> str:
    if scope.superuser:
        return "every production"
    parts = []
    if scope.studio_ids:
        parts.append("your studios' productions")
    if scope.guild_ids:
        parts.append("productions under your guild's agreements, across studios")
    return " and ".join(parts)


@register.simple_tag(takes_context=True)
def flag_for_follow_up(context, obj):
    """A link to flag `obj`, shown only to staff of a guild whose agreements cover it."""
    request = context.get("request")
    if request is None or obj is None or type(obj) not in services.FLAGGABLE:
        return ""
    if services.flag_guild(access.request_scope(request), obj) is None:
        return ""
    field, _ = services.FLAGGABLE[type(obj)]
    url = f"{reverse('admin:reports_flag_add')}?{urlencode({field: obj.pk})}"
    return format_html('<li><a href="{}" class="gl-flag-link">Flag for follow-up</a></li>', url)
