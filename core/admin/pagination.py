"""Admin pagination that never counts a whole big table.

Django's changelist asks its paginator for `count` on every page, even with
`show_full_result_count = False`, and the plain paginator answers with `SELECT COUNT(*)` over the
filtered queryset: on the journal (a million postings) or the consents that is a scan of the
table on every click. Here the count stops at `COUNT_CAP + 1` rows (`COUNT(*)` over a
`LIMIT`ed subquery of primary keys, ordering dropped so the scan can stop early): below the cap
the figure is exact, above it the page says "more than 10,000" and links the first
`COUNT_CAP / per_page` pages. Nobody pages through ten thousand rows; filters, search and
sorting find the rest. An estimate from the planner (`pg_class.reltuples`) was the alternative,
but it is only right for an unfiltered table, while almost every page here is filtered by the
caller's scope. The admin templates in config/templates show `count_label` when capped.

The sidebar filters follow the same rule: Django's RelatedOnlyFieldListFilter finds its choices
with `SELECT DISTINCT production_id` over the listed table (a scan of 500,000 AI uses per page
view); `InScopeRelatedFilter` reads them from the small related table instead.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A paginator whose `count` reads at most `cap + 1` rows; `capped` says the list goes on."""

    cap = COUNT_CAP
    capped = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        probe = self.object_list.order_by().values("pk")[: self.cap + 1]
        seen = probe.count()
        self.capped = seen > self.cap
        return min(seen, self.cap)

    @property
    def count_label(self) -> str:
        """What the page says of its size: "more than 10,000" past the cap, else the count."""
        return f"more than {self.cap:,}" if self.capped else f"{self.count:,}"


class InScopeRelatedFilter(admin.RelatedFieldListFilter):
    """A related-object filter whose choices are the related rows the user may see (the related
    model's own admin queryset: productions in scope, say), whether or not any listed row
    points at them."""

    def field_choices(self, field, request, model_admin):
        related = field.remote_field.model
        related_admin = model_admin.admin_site._registry.get(related)
        visible = (
            related_admin.get_queryset(request)
            if related_admin is not None
            else related._default_manager.all()
        )
        return field.get_choices(
            include_blank=False,
            ordering=self.field_admin_ordering(field, request, model_admin),
            limit_choices_to={"pk__in": visible.order_by().values("pk")},
        )


def cap_counts(site) -> None:
    """Give every page of `site` still on Django's paginator (other apps' pages: users, groups,
    API keys, the beat schedules) the capped one. Called once every admin is registered."""
    for model_admin in site._registry.values():
        if model_admin.paginator is Paginator:
            model_admin.paginator = CappedCountPaginator
            model_admin.show_full_result_count = False  # else "(N total)" counts the table
