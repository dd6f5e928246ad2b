"""The passwords blueprint."""

from acs_auth.passwords.views import bp

__all__ = ["bp"]
