"""The data model (DESIGN §3); importing this package registers every table."""

from acs_auth.models.account import Account
from acs_auth.models.allowlist import AllowlistEntry, AllowlistImport, AllowlistUpload
from acs_auth.models.audit import AuditEvent
from acs_auth.models.base import UTCDateTime, utcnow
from acs_auth.models.factors import RecoveryCode, TotpFactor
from acs_auth.models.mail import LinkRequest, OutboxMessage
from acs_auth.models.oauth import (
    BackchannelLogout,
    OAuthClient,
    OAuthCode,
    OAuthConsent,
    OAuthSubject,
    OAuthToken,
)
from acs_auth.models.passkey import Passkey, PasskeyChallenge
from acs_auth.models.program import Program
from acs_auth.models.remembered_browser import RememberedBrowser
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
    "Passkey",
    "PasskeyChallenge",
    "PasswordHistory",
    "Program",
    "RecoveryCode",
    "RememberedBrowser",
    "Role",
    "SessionKind",
    "SignInChallenge",
    "Source",
    "TotpFactor",
    "UTCDateTime",
    "User",
    "UserProgram",
    "utcnow",
]
