"""/api/admin: figures, users and the allowlist upload, for the admin role only.

The role check is one before_request hook on this blueprint (after the api blueprint's
authentication), so it covers every route and method added here. The views call the same
services as the admin console (user_admin, admin_stats, allowlist).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from acs_auth import messages
from acs_auth.api.allowlist_json import import_response, stats_json
from acs_auth.api.contract import Invalid, Response, validate
from acs_auth.api.guards import principal, require_admin, upload
from acs_auth.api.minted_keys import minted_key
from acs_auth.api.problems import problem
from acs_auth.api.schemas.account import ApiKeyCreated, ApiKeyList, SessionList
from acs_auth.api.schemas.admin import (
    AdminUser,
    AdminUserCreate,
    AdminUserUpdate,
    AllowlistUpload,
    ImportResult,
    ResetSent,
    ServiceApiKeyCreate,
    Stats,
    UserPage,
    UserSearch,
)
from acs_auth.api.serializers import admin_user_json, api_key_json, session_json
from acs_auth.models import User
from acs_auth.services.accounts import accounts, user_access, user_admin
from acs_auth.services.allowlist import imports
from acs_auth.services.monitoring import dashboard
from acs_auth.services.programs import catalogue
from acs_auth.services.signin import api_keys
from acs_auth.services.text.addresses import InvalidEmail
from acs_auth.services.text.characters import has_control_characters

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_admin)
TAGS = ("admin",)

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
@validate(resp=Response(HTTP_200=Stats), tags=TAGS)
def stats():
    """Figures.

    The dashboard's figures (accounts by state, allowlist, sessions, mail, failed sign-ins)
    and sign-ins per UTC day for the last 30 days.
    """
    return jsonify(stats_json(dashboard.dashboard(), dashboard.signins_per_day(30)))


@bp.get("/users")
@validate(resp=Response(HTTP_200=UserPage), tags=TAGS)
def list_users(query: UserSearch):
    """Search users.

    Users by email, filtered like the console's list, in keyset pages: pass next_after as
    ``after`` for the next page, prev_before as ``before`` for the previous one.
    """
    filters = user_admin.UserFilters(
        q=query.q,
        role=query.role or "",
        password=query.password or "",
        locked=query.locked,
        inactive=query.inactive,
    )
    page = user_admin.search_users(
        filters, after=query.after, before=query.before, limit=query.limit
    )
    items = [admin_user_json(u) for u in page.items]
    return jsonify(items=items, next_after=page.next_cursor, prev_before=page.previous_cursor)


@bp.post("/users")
@validate(resp=Response("HTTP_409", HTTP_201=AdminUser), tags=TAGS)
def create_user(json: AdminUserCreate):
    """Create a user.

    The account has no password; its setup email is queued. Programs must be in the catalogue
    when the catalogue is not empty.
    """
    _check_programs(json.programs)
    try:
        user = user_admin.create_user(
            json.email,
            role=json.role,
            first_name=(json.first_name or "").strip() or None,
            last_name=(json.last_name or "").strip() or None,
            programs=json.programs,
            actor=principal().user,
        )
    except accounts.AccountExists:
        return problem(409, detail=messages.ACCOUNT_EXISTS)
    except InvalidEmail:
        raise Invalid({"email": [messages.EMAIL_INVALID]}) from None
    return jsonify(admin_user_json(user)), 201


@bp.get("/users/<int:user_id>")
@validate(resp=Response("HTTP_404", HTTP_200=AdminUser), tags=TAGS)
def get_user(user_id: int):
    """One user.

    The account as an administrator sees it: state, lock, source and visits.
    """
    user = _user(user_id)
    return jsonify(admin_user_json(user)) if user else _no_user()


@bp.patch("/users/<int:user_id>")
@validate(resp=Response("HTTP_404", "HTTP_409", HTTP_200=AdminUser), tags=TAGS)
def update_user(user_id: int, json: AdminUserUpdate):
    """Change role, activity or programs.

    Deactivation ends the account's sessions, tokens and keys; an administrator cannot demote
    or deactivate themselves (409).
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    _check_programs(json.programs, user.program_ids)
    try:
        user_admin.update_user(
            user,
            role=json.role or user.role,
            programs=user.program_ids if json.programs is None else json.programs,
            active=user.is_active if json.is_active is None else json.is_active,
            actor=principal().user,
        )
    except user_admin.ActionRefused as exc:
        return problem(409, detail=str(exc))
    return jsonify(admin_user_json(user))


@bp.post("/users/<int:user_id>/unlock")
@validate(resp=Response("HTTP_404", HTTP_200=AdminUser), tags=TAGS)
def unlock_user(user_id: int):
    """Unlock a user.

    Clears the failed sign-in counter and the lock; the audit log names the administrator.
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    user_admin.unlock(user, actor=principal().user)
    return jsonify(admin_user_json(user))


@bp.get("/users/<int:user_id>/sessions")
@validate(resp=Response("HTTP_404", HTTP_200=SessionList), tags=TAGS)
def list_user_sessions(user_id: int):
    """A user's live sessions.

    Browser and API sign-ins of the account that have not ended.
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    rows = user_access.live_sessions(user)
    return jsonify(sessions=[session_json(row, principal().session_id) for row in rows])


@bp.delete("/users/<int:user_id>/sessions/<session_id>")
@validate(resp=Response("HTTP_204", "HTTP_404"), tags=TAGS)
def delete_user_session(user_id: int, session_id: str):
    """End one of a user's sessions.

    Its cookie and tokens stop working at once; the audit log names the administrator.
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    if not user_access.revoke_session(user, session_id, actor=principal().user):
        return problem(404, detail=messages.API_SESSION_NOT_FOUND)
    return "", 204


@bp.get("/users/<int:user_id>/api-keys")
@validate(resp=Response("HTTP_404", HTTP_200=ApiKeyList), tags=TAGS)
def list_user_api_keys(user_id: int):
    """A user's API keys.

    Keys that are not revoked, by prefix; never a secret or its digest.
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    return jsonify(api_keys=[api_key_json(row) for row in api_keys.list_for(user)])


@bp.post("/users/<int:user_id>/api-keys")
@validate(resp=Response("HTTP_404", "HTTP_409", HTTP_201=ApiKeyCreated), tags=TAGS)
def create_user_api_key(user_id: int, json: ServiceApiKeyCreate):
    """Create an API key for a service account.

    A service account has no password to mint its own; only such accounts get keys this way
    (409 otherwise). The secret is in this answer only.
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    try:
        return minted_key(
            lambda: user_access.create_service_key(
                user,
                name=json.name.strip(),
                scope=json.scope,
                days=json.expires_in_days,
                actor=principal().user,
            )
        )
    except user_admin.ActionRefused as exc:
        return problem(409, detail=str(exc))


@bp.delete("/users/<int:user_id>/api-keys/<key_id>")
@validate(resp=Response("HTTP_204", "HTTP_404"), tags=TAGS)
def delete_user_api_key(user_id: int, key_id: str):
    """Revoke one of a user's API keys.

    The key stops working at once; the owner is emailed.
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    if api_keys.revoke(user, key_id[:32], actor=principal().user) is None:
        return problem(404, detail=messages.API_API_KEY_NOT_FOUND)
    return "", 204


@bp.post("/users/<int:user_id>/password-reset")
@validate(resp=Response("HTTP_404", "HTTP_409", HTTP_202=ResetSent), tags=TAGS)
def send_password_reset(user_id: int):
    """Email a user a password reset link.

    A setup link when the account has no password yet. The link goes to the person only; the
    answer says which kind was queued.
    """
    user = _user(user_id)
    if user is None:
        return _no_user()
    try:
        kind = user_access.send_password_reset(user, actor=principal().user)
    except user_admin.ActionRefused as exc:
        return problem(409, detail=str(exc))
    return jsonify(sent=kind), 202


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
@upload("text/csv", "multipart/form-data")
@validate(resp=Response("HTTP_409", HTTP_200=ImportResult), tags=TAGS)
def upload_allowlist(query: AllowlistUpload):
    """Import an allowlist CSV.

    The file comes as a text/csv body or a multipart field named file. Applied in one
    transaction, or not at all when rows are bad (422, by line) unless skip_invalid; a replace
    that removes more than the allowed share needs confirm_mass_removal (409). With
    dry_run=true, only the preview of what would change.
    """
    data, sent_name = _uploaded_file()
    try:
        result = imports.import_file(
            data,
            file_name=(query.file_name or sent_name)[:255],
            mode=query.mode,
            actor=principal().user,
            dry_run=query.dry_run,
            skip_invalid=query.skip_invalid,
            confirm_mass_removal=query.confirm_mass_removal,
        )
    except imports.CsvRejected as exc:
        return problem(422, detail=str(exc), errors={"file": [str(exc)]})
    return import_response(result, dry_run=query.dry_run)
