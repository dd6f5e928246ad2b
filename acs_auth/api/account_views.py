"""/api/auth/me, /api/auth/sessions and /api/auth/api-keys: the caller's own account."""

from __future__ import annotations

from flask import Blueprint, jsonify

from acs_auth import messages
from acs_auth.api.contract import Invalid, Response, validate
from acs_auth.api.guards import bearer_only, principal
from acs_auth.api.minted_keys import minted_key
from acs_auth.api.problems import problem
from acs_auth.api.schemas.account import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ProfileUpdate,
    SessionList,
    User,
)
from acs_auth.api.serializers import api_key_json, session_json, user_json
from acs_auth.services.accounts import accounts
from acs_auth.services.signin import api_keys, sessions

bp = Blueprint("account", __name__, url_prefix="/auth")
TAGS = ("account",)


@bp.get("/me")
@validate(resp=Response(HTTP_200=User), tags=TAGS)
def me():
    """The caller's account.

    Read from the database on this request, so a role change shows at once.
    """
    return jsonify(user_json(principal().caller))


@bp.patch("/me")
@validate(resp=Response("HTTP_409", HTTP_200=User), tags=TAGS)
def update_me(json: ProfileUpdate):
    """Change names or username.

    Any other field (role, is_active, email…) is refused by name; null removes a name or the
    username. A username another account holds answers 409.
    """
    data = json.model_dump(exclude_unset=True)
    user = principal().user
    try:
        accounts.update_profile(
            user,
            first_name=data.get("first_name", user.first_name),
            last_name=data.get("last_name", user.last_name),
            username=data.get("username", user.username),
        )
    except accounts.ProfileInvalid as exc:
        raise Invalid({exc.field: [str(exc)]}) from None
    except accounts.AccountExists:
        return problem(409, detail=messages.USERNAME_TAKEN)
    return jsonify(user_json(user))


@bp.get("/sessions")
@bearer_only
@validate(resp=Response(HTTP_200=SessionList), tags=TAGS)
def list_sessions():
    """The caller's live sessions.

    Browser and API sign-ins that have not ended; ``current`` marks the caller's own.
    """
    me = principal()
    rows = sessions.list_live(me.user)
    return jsonify(sessions=[session_json(row, me.session_id) for row in rows])


@bp.delete("/sessions/<session_id>")
@bearer_only
@validate(resp=Response("HTTP_204", "HTTP_404"), tags=TAGS)
def delete_session(session_id: str):
    """End one of the caller's sessions.

    Its cookie, remember-me, access and refresh tokens stop working; another person's session
    answers 404, like one that does not exist.
    """
    if not accounts.sign_out_session(principal().user, session_id[:64]):
        return problem(404, detail=messages.API_SESSION_NOT_FOUND)
    return "", 204


@bp.post("/api-keys")
@bearer_only
@validate(resp=Response("HTTP_403", "HTTP_409", HTTP_201=ApiKeyCreated), tags=TAGS)
def create_api_key(json: ApiKeyCreate):
    """Create an API key.

    Needs the current password (a wrong one answers 403 and counts toward the lockout); the
    owner is emailed. The secret is in this answer only.
    """
    me = principal()
    try:
        return minted_key(
            lambda: api_keys.mint(
                me.user,
                password=json.current_password,
                name=json.name.strip(),
                scope=json.scope,
                days=json.expires_in_days,
                session=me.session,
            )
        )
    except api_keys.PasswordWrong:
        return problem(403, detail=messages.API_KEY_PASSWORD_WRONG)
    except api_keys.RoleRefused:
        return problem(403, detail=messages.API_KEY_GUEST_REFUSED)
    except api_keys.ScopeRefused:
        return problem(403, detail=messages.API_KEY_SCOPE_REFUSED)


@bp.get("/api-keys")
@bearer_only
@validate(resp=Response(HTTP_200=ApiKeyList), tags=TAGS)
def list_api_keys():
    """The caller's API keys.

    Keys that are not revoked, by prefix, with their use in the current window; never the
    secrets.
    """
    rows = api_keys.list_for(principal().user)
    return jsonify(api_keys=[api_key_json(row) for row in rows])


@bp.delete("/api-keys/<key_id>")
@bearer_only
@validate(resp=Response("HTTP_204", "HTTP_404"), tags=TAGS)
def delete_api_key(key_id: str):
    """Revoke an API key.

    The key stops working at once; another person's key answers 404.
    """
    if not api_keys.revoke(principal().user, key_id[:32]):
        return problem(404, detail=messages.API_KEY_NOT_FOUND)
    return "", 204
