"""The data model (DESIGN §3); importing this package registers every table."""

from acs_auth.models.account import Account
from acs_auth.models.allowlist import AllowlistEntry, AllowlistImport, AllowlistUpload
from acs_auth.models.audit import AuditEvent
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.models.mail import LinkRequest, OutboxMessage
from acs_auth.models.oauth import (
    BackchannelLogout,
    OAuthClient,
    OAuthCode,
    OAuthConsent,
    OAuthSubject,
    OAuthToken,
)
from acs_auth.models.program import Program
from acs_auth.models.session import ApiKey, AuthSession, SessionKind, SignInChallenge
from acs_auth.models.user import PasswordHistory, Role, Source, User, UserProgram

__all__ = [
    "Account",
    "AllowlistEntry",
    "AllowlistImport",
    "AllowlistUpload",
    "ApiKey",
    "AuditEvent",
    "AuthSession",
    "BackchannelLogout",
    "LinkRequest",
    "OAuthClient",
    "OAuthCode",
    "OAuthConsent",
    "OAuthSubject",
    "OAuthToken",
    "OutboxMessage",
    "PasswordHistory",
    "Program",
    "Role",
    "SessionKind",
    "SignInChallenge",
    "Source",
    "UTCDateTime",
    "User",
    "UserProgram",
    "utcnow",
]
