"""The api blueprint."""

from acs_auth.api.views import bp

__all__ = ["bp"]
