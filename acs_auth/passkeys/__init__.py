"""The passkeys blueprint: manage passkeys on /account/passkeys, sign in with one on /login."""

from acs_auth.passkeys.views import bp

__all__ = ["bp"]
