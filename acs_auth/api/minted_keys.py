"""The answer to minting an API key, shared by the caller's own keys and an admin's service keys."""

from __future__ import annotations

from collections.abc import Callable

from flask import jsonify

from acs_auth import messages
from acs_auth.api.contract import Invalid
from acs_auth.api.problems import problem
from acs_auth.api.serializers import api_key_json
from acs_auth.models import ApiKey
from acs_auth.services.signin import api_keys


def minted_key(mint: Callable[[], tuple[ApiKey, str]]):
    """Run ``mint``; 201 with the secret, shown this once and never cached, or the refusal.

    The caller catches the refusals that belong to its own entrance (a wrong password, a role).
    """
    try:
        row, secret = mint()
    except api_keys.ExpiryTooLong as exc:
        detail = messages.API_KEY_EXPIRY_TOO_LONG.format(days=exc.days)
        raise Invalid({"expires_in_days": [detail]}) from None
    except api_keys.TooManyKeys:
        return problem(409, detail=messages.API_TOO_MANY_KEYS)
    response = jsonify({**api_key_json(row), "key": secret})
    response.headers["Cache-Control"] = "no-store"
    return response, 201
