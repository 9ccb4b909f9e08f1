from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.admin.base import site_ready
from core.admin.beat import register_beat_admins
from core.health import health
from core.security.well_known import signing_keys
from reports.admin import (
    notification_open_view,
    notification_preferences_view,
    notifications_view,
    open_items_view,
)

register_beat_admins(admin.site)  # the schedules' pages show their arguments in words
site_ready(admin.site)  # every admin is registered by now

urlpatterns = [
    path("admin/open-items/", admin.site.admin_view(open_items_view), name="open-items"),
    path("admin/notifications/", admin.site.admin_view(notifications_view), name="notifications"),
    path(
        "admin/notifications/preferences/",
        admin.site.admin_view(notification_preferences_view),
        name="notification-preferences",
    ),
    path(
        "admin/notifications/<str:pk>/open/",
        admin.site.admin_view(notification_open_view),
        name="notification-open",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("ledger.urls")),
    path("api/v1/", include("consent.urls")),
    path("api/v1/compensation/", include("compensation.urls")),
    path("api/v1/residuals/", include("compensation.residuals.urls")),
    path("api/v1/", include("reports.urls")),
    path("api/v1/", include("privacy.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (`?script`), not inline, so the
    # page runs under the site's policy: scripts only from this site.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("health/", health, name="health"),
    path(".well-known/guild-ledger-keys.json", signing_keys, name="signing-keys"),
    path("disclosure/", include("reports.public_urls")),
    path("", include("portal.urls")),
]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
