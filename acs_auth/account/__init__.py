"""The account blueprint."""

from acs_auth.account.views import bp

__all__ = ["bp"]
