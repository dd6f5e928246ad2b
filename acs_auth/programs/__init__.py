"""The programs blueprint."""

from acs_auth.programs.views import bp

__all__ = ["bp"]
