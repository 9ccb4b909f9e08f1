"""Demo: one compliance report per demo production, over the production's dates so far."""

from django.utils import timezone

from ledger.models import Production

from .compliance import Target
from .models import Report
from .services import report_generate


def load(*, actor):
    today = timezone.now().date()
    for production in Production.objects.select_related("studio").order_by("id"):
        target = Target.of(production)
        if Report.objects.filter(scope_key=target.key).exists():
            continue  # `demo` runs twice safely
        report_generate(
            target=target,
            period_from=min(production.start_date, today),
            period_to=today,
            origin=Report.Origin.ON_DEMAND,
            actor=actor,
        )
