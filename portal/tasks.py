"""The expiry of consent requests (django-celery-beat, hourly; migration 0001)."""

from celery import shared_task

from consent import requests
from core.audit import acting_as, system_user

from . import notices


@shared_task
def expire_consent_requests() -> list[int]:
    """Record as expired the requests whose link expired unanswered, and tell their staff."""
    actor = system_user()
    with acting_as(actor):
        expired = requests.expire_due(actor=actor)
        for request in expired:
            notices.expired(request)
    return [request.pk for request in expired]
