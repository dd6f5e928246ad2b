"""/api/admin: figures, users and the allowlist upload, for the admin role only.

The role check is one before_request hook on this blueprint (after the api blueprint's
authentication), so it covers every route and method added here. The views call the same
services as the admin console (user_admin, admin_stats, allowlist).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from acs_auth import messages
from acs_auth.api import schemas
from acs_auth.api.allowlist_json import import_response, stats_json
from acs_auth.api.guards import principal, require_admin, upload
from acs_auth.api.minted_keys import minted_key
from acs_auth.api.problems import problem
from acs_auth.api.serializers import admin_user_json, api_key_json, session_json
from acs_auth.api.validation import Invalid, json_body, query_args
from acs_auth.models import Role, User
from acs_auth.services.accounts import accounts, user_access, user_admin
from acs_auth.services.allowlist import imports
from acs_auth.services.factors import admin as factor_admin
from acs_auth.services.monitoring import dashboard
from acs_auth.services.programs import catalogue
from acs_auth.services.signin import api_keys
from acs_auth.services.text.addresses import InvalidEmail
from acs_auth.services.text.characters import has_control_characters

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
# Row ids are 32-bit on PostgreSQL; a larger number in the URL is simply no such user.
MAX_ID = 2**31 - 1


def _user(user_id: int) -> User | None:
    return user_admin.get_user(user_id) if user_id <= MAX_ID else None


def _check_programs(ids, held=()) -> None:
    """422 for LO Root IDs newly given to an account that a non-empty catalogue lacks."""
    unknown = catalogue.unknown_ids(set(ids or []) - set(held))
    if unknown:
        detail = messages.PROGRAMS_UNKNOWN.format(ids=", ".join(unknown[:10]))
        raise Invalid({"programs": [detail]})


def _no_user():
    return problem(404, detail=messages.API_USER_NOT_FOUND)


@bp.get("/stats")
def stats():
    """The dashboard's figures and sign-ins per day for the last 30 days."""
    return jsonify(stats_json(dashboard.dashboard(), dashboard.signins_per_day(30)))


@bp.get("/users")
def list_users():
    """Users by email, filtered like the console's list; keyset pages (after / before)."""
    args = query_args(schemas.USER_SEARCH)
    filters = user_admin.UserFilters(
        q=args.get("q", ""),
        role=args.get("role", ""),
        password=args.get("password", ""),
        locked=args.get("locked", False),
        inactive=args.get("inactive", False),
        second_factor=args.get("second_factor", ""),
    )
    page = user_admin.search_users(
        filters, after=args.get("after"), before=args.get("before"), limit=args.get("limit", 50)
    )
    items = [admin_user_json(u) for u in page.items]
    return jsonify(items=items, next_after=page.next_after, prev_before=page.prev_before)


@bp.post("/users")
def create_user():
    """Create an account without a password; its setup email is queued."""
    data = json_body(schemas.ADMIN_USER_CREATE)
    _check_programs(data.get("programs"))
    try:
        user = user_admin.create_user(
            data["email"],
            role=data.get("role", Role.USER.value),
            first_name=(data.get("first_name") or "").strip() or None,
            last_name=(data.get("last_name") or "").strip() or None,
            programs=data.get("programs", []),
            actor=principal().user,
        )
    except accounts.AccountExists:
        return problem(409, detail=messages.ACCOUNT_EXISTS)
    except InvalidEmail:
        raise Invalid({"email": [messages.EMAIL_INVALID]}) from None
    return jsonify(admin_user_json(user)), 201


@bp.get("/users/<int:user_id>")
def get_user(user_id: int):
    """One account as an administrator sees it."""
    user = _user(user_id)
    return jsonify(admin_user_json(user)) if user else _no_user()


@bp.patch("/users/<int:user_id>")
def update_user(user_id: int):
    """Change role, activity or programs; deactivation ends the account's credentials."""
    data = json_body(schemas.ADMIN_USER_UPDATE)
    user = _user(user_id)
    if user is None:
        return _no_user()
    _check_programs(data.get("programs"), user.program_ids)
    try:
        user_admin.update_user(
            user,
            role=data.get("role", user.role),
            programs=data.get("programs", user.program_ids),
            active=data.get("is_active", user.is_active),
            actor=principal().user,
        )
    except user_admin.ActionRefused as exc:
        return problem(409, detail=str(exc))
    return jsonify(admin_user_json(user))


@bp.post("/users/<int:user_id>/unlock")
def unlock_user(user_id: int):
    """Clear the failed sign-in counter and the lock."""
    user = _user(user_id)
    if user is None:
        return _no_user()
    user_admin.unlock(user, actor=principal().user)
    return jsonify(admin_user_json(user))


@bp.get("/users/<int:user_id>/sessions")
def list_user_sessions(user_id: int):
    """The account's live sessions, browser and API."""
    user = _user(user_id)
    if user is None:
        return _no_user()
    rows = user_access.live_sessions(user)
    return jsonify(sessions=[session_json(row, principal().session_id) for row in rows])


@bp.delete("/users/<int:user_id>/sessions/<session_id>")
def delete_user_session(user_id: int, session_id: str):
    """End one session of the account; the audit log names the administrator."""
    user = _user(user_id)
    if user is None:
        return _no_user()
    if not user_access.revoke_session(user, session_id, actor=principal().user):
        return problem(404, detail=messages.API_SESSION_NOT_FOUND)
    return "", 204


@bp.get("/users/<int:user_id>/api-keys")
def list_user_api_keys(user_id: int):
    """The account's API keys (never a secret or its digest)."""
    user = _user(user_id)
    if user is None:
        return _no_user()
    return jsonify(api_keys=[api_key_json(row) for row in api_keys.list_for(user)])


@bp.post("/users/<int:user_id>/api-keys")
def create_user_api_key(user_id: int):
    """Make an API key for a service account; the secret is in this answer only."""
    data = json_body(schemas.SERVICE_API_KEY)
    user = _user(user_id)
    if user is None:
        return _no_user()
    try:
        return minted_key(
            lambda: user_access.create_service_key(
                user,
                name=data["name"].strip(),
                scope=data.get("scope", "read"),
                days=data.get("expires_in_days"),
                actor=principal().user,
            )
        )
    except user_admin.ActionRefused as exc:
        return problem(409, detail=str(exc))


@bp.delete("/users/<int:user_id>/api-keys/<key_id>")
def delete_user_api_key(user_id: int, key_id: str):
    """Revoke one API key of the account at once."""
    user = _user(user_id)
    if user is None:
        return _no_user()
    if api_keys.revoke(user, key_id[:32], actor=principal().user) is None:
        return problem(404, detail=messages.API_API_KEY_NOT_FOUND)
    return "", 204


@bp.post("/users/<int:user_id>/password-reset")
def send_password_reset(user_id: int):
    """Email the person a reset link (a setup link without a password); 202, no link shown."""
    user = _user(user_id)
    if user is None:
        return _no_user()
    try:
        kind = user_access.send_password_reset(user, actor=principal().user)
    except user_admin.ActionRefused as exc:
        return problem(409, detail=str(exc))
    return jsonify(sent=kind), 202


@bp.delete("/users/<int:user_id>/factors")
def reset_user_factors(user_id: int):
    """Remove every second factor of the person (emailed, audited); 200 with what went."""
    user = _user(user_id)
    if user is None:
        return _no_user()
    me = principal().user
    try:
        removed = factor_admin.reset(user, actor=me)
    except factor_admin.ResetRefused as exc:
        return problem(403 if user.id == me.id else 409, detail=str(exc))
    return jsonify(removed=removed)


def _uploaded_file() -> tuple[bytes, str]:
    """The CSV bytes and file name, from a text/csv body or a multipart ``file`` field."""
    if request.mimetype == "multipart/form-data":
        sent = request.files.get("file")
        if sent is None:  # the right media type, without its one field
            raise Invalid({"file": [messages.API_CSV_FILE_MISSING]})
        if has_control_characters(sent.filename):
            raise Invalid({"file": [messages.FILE_NAME_INVALID]})
        return sent.read(), sent.filename or ""
    if request.mimetype in CSV_TYPES:
        return request.get_data(cache=False), ""
    raise UnsupportedMediaType(messages.API_CSV_REQUIRED)


@bp.post("/allowlist")
@upload
def upload_allowlist():
    """Import an allowlist CSV; with dry_run=true, only the preview of what would change."""
    args = query_args(schemas.ALLOWLIST_UPLOAD)
    data, sent_name = _uploaded_file()
    try:
        result = imports.import_file(
            data,
            file_name=(args.get("file_name") or sent_name)[:255],
            mode=args.get("mode", "merge"),
            actor=principal().user,
            dry_run=args.get("dry_run", False),
            skip_invalid=args.get("skip_invalid", False),
            confirm_mass_removal=args.get("confirm_mass_removal", False),
        )
    except imports.CsvRejected as exc:
        return problem(422, detail=str(exc), errors={"file": [str(exc)]})
    return import_response(result, dry_run=args.get("dry_run", False))
