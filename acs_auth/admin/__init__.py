"""The admin blueprint."""

from acs_auth.admin.views import bp

__all__ = ["bp"]
