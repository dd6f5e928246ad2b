"""/api/auth/me, /api/auth/sessions and /api/auth/api-keys: the caller's own account."""

from __future__ import annotations

from flask import Blueprint, jsonify

from acs_auth import messages
from acs_auth.api import schemas
from acs_auth.api.guards import bearer_only, principal
from acs_auth.api.minted_keys import minted_key
from acs_auth.api.problems import problem
from acs_auth.api.serializers import api_key_json, session_json, user_json
from acs_auth.api.validation import Invalid, json_body
from acs_auth.services.accounts import accounts
from acs_auth.services.signin import api_keys, sessions

bp = Blueprint("account", __name__, url_prefix="/auth")


@bp.get("/me")
def me():
    """The caller's account, read from the database on this request."""
    return jsonify(user_json(principal().caller))


@bp.patch("/me")
def update_me():
    """Change names or username; any other field (role, is_active, email…) is refused."""
    data = json_body(schemas.PROFILE)
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
def list_sessions():
    """The caller's live sessions, browser and API."""
    me = principal()
    rows = sessions.list_live(me.user)
    return jsonify(sessions=[session_json(row, me.session_id) for row in rows])


@bp.delete("/sessions/<session_id>")
@bearer_only
def delete_session(session_id: str):
    """End one of the caller's sessions; another person's answers 404."""
    if not accounts.sign_out_session(principal().user, session_id[:64]):
        return problem(404, detail=messages.API_SESSION_NOT_FOUND)
    return "", 204


@bp.post("/api-keys")
@bearer_only
def create_api_key():
    """Mint a key after re-checking the password; the secret is in this answer only."""
    data = json_body(schemas.NEW_API_KEY)
    me = principal()
    try:
        return minted_key(
            lambda: api_keys.mint(
                me.user,
                password=data["current_password"],
                name=data["name"].strip(),
                scope=data.get("scope", "read"),
                days=data.get("expires_in_days"),
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
def list_api_keys():
    """The caller's keys that are not revoked, by prefix; never the secrets."""
    rows = api_keys.list_for(principal().user)
    return jsonify(api_keys=[api_key_json(row) for row in rows])


@bp.delete("/api-keys/<key_id>")
@bearer_only
def delete_api_key(key_id: str):
    """Revoke one of the caller's keys at once; another person's answers 404."""
    if not api_keys.revoke(principal().user, key_id[:32]):
        return problem(404, detail=messages.API_KEY_NOT_FOUND)
    return "", 204
