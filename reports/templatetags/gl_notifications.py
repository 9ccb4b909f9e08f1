"""The link to the signed-in user's notifications, with their unread count, in the user tools of
every admin page (reports/templates/admin/base_site.html)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from .. import notifications

register = template.Library()

# The count shown is capped: the query counts at most this many rows, on every page.
SHOWN_AT_MOST = 99


@register.simple_tag(takes_context=True)
def notifications_link(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
        return ""
    count = notifications.unread_count(user, at_most=SHOWN_AT_MOST + 1)
    shown = f"{SHOWN_AT_MOST}+" if count > SHOWN_AT_MOST else str(count)
    return format_html(
        '<a href="{}" class="gl-notifications-link" data-unread="{}">Notifications '
        '<span class="gl-unread-count">({})</span></a> / <a href="{}">Open items</a> / ',
        reverse("notifications"),
        count,
        shown,
        reverse("open-items"),
    )
