"""The request body of every API endpoint that takes one (also rendered into the OpenAPI file)."""

from __future__ import annotations

from dataclasses import replace

from acs_auth.api.validation import Field, Schema
from acs_auth.models import Role
from acs_auth.services.signin import api_keys

# Bounds: database column sizes, and for passwords a generous cap above the policy's 128 so an
# over-long password is told "too long" by the policy rather than refused as malformed input.
EMAIL = Field("string", required=True, max_length=254, min_length=1, fmt="email")
LAST_NAME = Field("string", required=True, max_length=100, min_length=1)
NAME = Field("string", nullable=True, max_length=100)
PASSWORD = Field("string", required=True, max_length=1024, min_length=1, controls=True)
USERNAME = Field(
    "string",
    nullable=True,
    max_length=64,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$",
    description="3 to 64 letters, digits, dots, dashes or underscores; null removes it.",
)
TOKEN = Field("string", required=True, max_length=4096, min_length=1)
PROGRAM_ID = Field("string", max_length=64, pattern=r"^[A-Za-z0-9._:-]{1,64}$")

REGISTER = Schema(
    "RegisterRequest",
    "With email confirmation (the default) the password is ignored and the account is created "
    "from the emailed link; without it, the password is required and the account is created at "
    "once.",
    email=EMAIL,
    last_name=LAST_NAME,
    password=Field("string", max_length=1024, min_length=1, controls=True),
)
LOGIN = Schema(
    "LoginRequest",
    "Send exactly one of email or username.",
    email=Field("string", max_length=254, min_length=1),
    username=Field("string", max_length=254, min_length=1),
    password=PASSWORD,
    remember_me=Field("boolean", description="A 30-day session instead of 7 days."),
)
REFRESH = Schema("RefreshRequest", refresh_token=TOKEN)
VERIFY = Schema("VerifyTokenRequest", token=TOKEN)
CHANGE_PASSWORD = Schema(
    "ChangePasswordRequest",
    current_password=PASSWORD,
    new_password=PASSWORD,
    revoke_api_keys=Field(
        "boolean", description="true: also revoke every API key of the account (default false)."
    ),
)
REQUEST_RESET = Schema(
    "PasswordResetRequest",
    "Send exactly one of email or username; the link goes to the account's stored address.",
    email=replace(EMAIL, required=False),
    username=Field("string", max_length=254, min_length=1),
)
RESET = Schema("ResetPasswordRequest", token=TOKEN, password=PASSWORD)
PROFILE = Schema(
    "ProfileUpdate",
    "Only these fields; role, is_active and email cannot be changed here.",
    first_name=NAME,
    last_name=NAME,
    username=USERNAME,
)
NEW_API_KEY = Schema(
    "ApiKeyCreate",
    "A key is a credential of the account: minting one needs the current password (a wrong one "
    "answers 403 and counts toward the account's lockout), and the owner is emailed.",
    name=Field("string", required=True, max_length=100, min_length=1),
    current_password=PASSWORD,
    scope=Field(
        "string",
        choices=api_keys.SCOPES,
        description="Defaults to read (GET only). full: also writes. admin: full plus "
        "/api/admin, for administrators only; no other key reaches /api/admin.",
    ),
    expires_in_days=Field(
        "integer",
        nullable=True,
        minimum=1,
        maximum=3650,
        description="Absent or null: API_KEY_DEFAULT_EXPIRE_DAYS (90). More than "
        "API_KEY_MAX_EXPIRE_DAYS (365) answers 422. Every key expires.",
    ),
)
SERVICE_API_KEY = Schema(
    "ServiceApiKeyCreate",
    "A key an administrator makes for a service account (which has no password to mint one). "
    "The account's address is emailed the usual notice.",
    name=Field("string", required=True, max_length=100, min_length=1),
    scope=Field("string", choices=("read", "full"), description="Defaults to read."),
    expires_in_days=replace(NEW_API_KEY.fields["expires_in_days"]),
)
ROLES = tuple(r.value for r in Role)
ADMIN_USER_CREATE = Schema(
    "AdminUserCreate",
    email=EMAIL,
    role=Field("string", choices=ROLES),
    first_name=NAME,
    last_name=NAME,
    programs=Field("array", item=PROGRAM_ID, max_items=1000),
)
ADMIN_USER_UPDATE = Schema(
    "AdminUserUpdate",
    role=Field("string", choices=ROLES),
    is_active=Field("boolean"),
    programs=Field("array", item=PROGRAM_ID, max_items=1000),
)
PROGRAM_FIELDS = dict(
    name=Field("string", max_length=200, min_length=1),
    description=Field("string", max_length=2000),
    launch_url=Field("string", nullable=True, max_length=2000, description="http(s) URL."),
    active=Field("boolean"),
)
PROGRAM_CREATE = Schema(
    "ProgramCreate",
    lo_root_id=replace(PROGRAM_ID, required=True),
    **{**PROGRAM_FIELDS, "name": replace(PROGRAM_FIELDS["name"], required=True)},
)
PROGRAM_UPDATE = Schema("ProgramUpdate", **PROGRAM_FIELDS)
PROGRAM_IMPORT = Schema(
    "ProgramImport", dry_run=Field("boolean", description="true: report, change nothing.")
)
URI = Field("string", max_length=2000, min_length=1)
CLIENT_FIELDS = dict(
    name=Field("string", max_length=100, min_length=1),
    redirect_uris=Field("array", item=URI, max_items=20),
    post_logout_redirect_uris=Field("array", item=URI, max_items=20),
    backchannel_logout_uri=Field("string", nullable=True, max_length=2000),
    programs=Field("array", item=PROGRAM_ID, max_items=200),
    first_party=Field("boolean", description="true: no consent screen."),
)
CLIENT_CREATE = Schema(
    "ClientCreate",
    **{
        **CLIENT_FIELDS,
        "name": replace(CLIENT_FIELDS["name"], required=True),
        "redirect_uris": replace(CLIENT_FIELDS["redirect_uris"], required=True),
    },
    public=Field("boolean", description="true: no secret, PKCE only."),
)
CLIENT_UPDATE = Schema("ClientUpdate", **CLIENT_FIELDS, active=Field("boolean"))

# Query strings (GET parameters and the allowlist upload's options).
CURSOR = Field("integer", minimum=1, maximum=2**31 - 1)
USER_SEARCH = Schema(
    "UserSearch",
    q=Field("string", max_length=254, description="Any part of the email, username or names."),
    role=Field("string", choices=ROLES),
    password=Field("string", choices=("set", "pending")),
    locked=Field("boolean"),
    inactive=Field("boolean"),
    second_factor=Field(
        "string", choices=("with", "without"), description="With or without a second factor."
    ),
    after=replace(CURSOR, description="next_after of the previous page."),
    before=replace(CURSOR, description="prev_before of the next page."),
    limit=Field("integer", minimum=1, maximum=100, description="Page size, 50 by default."),
)
ALLOWLIST_UPLOAD = Schema(
    "AllowlistUpload",
    mode=Field("string", choices=("merge", "replace"), description="Defaults to merge."),
    dry_run=Field("boolean", description="true: answer the preview, change nothing."),
    skip_invalid=Field("boolean", description="true: apply the good rows despite bad ones."),
    file_name=Field("string", max_length=255, description="Recorded in the import history."),
    confirm_mass_removal=Field(
        "boolean", description="true: apply a replace that removes more than the allowed share."
    ),
)

ALL = (
    REGISTER,
    LOGIN,
    REFRESH,
    VERIFY,
    CHANGE_PASSWORD,
    REQUEST_RESET,
    RESET,
    PROFILE,
    NEW_API_KEY,
    ADMIN_USER_CREATE,
    ADMIN_USER_UPDATE,
    PROGRAM_CREATE,
    PROGRAM_UPDATE,
    CLIENT_CREATE,
    CLIENT_UPDATE,
    SERVICE_API_KEY,
)
