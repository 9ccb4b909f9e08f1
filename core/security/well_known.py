"""The installation's public signing keys, for anyone to check its signatures (the ledger's
checkpoints, published statements) without an account: `/.well-known/guild-ledger-keys.json`."""

from django.http import JsonResponse
from django.views.decorators.http import require_safe

from core.security import signing


@require_safe
def signing_keys(request):
    response = JsonResponse(signing.published_keys())
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
