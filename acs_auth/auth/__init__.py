"""The auth blueprint."""

from acs_auth.auth.views import bp

__all__ = ["bp"]
