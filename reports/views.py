"""The public pages of a published AI disclosure label: no login, found only by the label's
unguessable public id. A label that does not exist and one the studio has not published (or has
withdrawn) look the same: not found."""

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from core.errors import error_body

from . import label
from .models import DisclosureLabel

NOT_FOUND = "No published AI disclosure label at this address."


def _published(public_id) -> DisclosureLabel | None:
    return (
        DisclosureLabel.objects.select_related("production__studio")
        .filter(public_id=public_id, published=True)
        .first()
    )


@require_safe
def label_page(request, public_id):
    found = _published(public_id)
    if found is None:
        raise Http404(NOT_FOUND)
    return HttpResponse(label.html(label.content(found.production)))


@require_safe
def label_json(request, public_id):
    found = _published(public_id)
    if found is None:
        return JsonResponse(error_body("not_found", NOT_FOUND), status=404)
    return JsonResponse(label.content(found.production), json_dumps_params={"ensure_ascii": False})
