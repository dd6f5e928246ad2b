"""The registration blueprint."""

from acs_auth.registration.views import bp

__all__ = ["bp"]
