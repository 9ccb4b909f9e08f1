"""The public address of a person's training statement (portal.training): no login, found only
by its unguessable id; any other id is not found. Always current, so caches must ask again."""

from django.http import JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from core.errors import error_body

from . import training
from .models import TrainingStatement

NOT_FOUND = "No training statement at this address."


@require_safe
def statement(request, public_id):
    found = TrainingStatement.objects.select_related("person").filter(public_id=public_id).first()
    if found is None:
        return JsonResponse(error_body("not_found", NOT_FOUND), status=404)
    response = JsonResponse(training.statement(found), json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, public=True, no_cache=True)
    response["X-Robots-Tag"] = "noindex"
    return response
