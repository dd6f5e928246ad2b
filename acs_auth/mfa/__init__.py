"""The second-factor blueprint: enrolment on /account and the second step of sign-in."""

from acs_auth.mfa.views import bp

__all__ = ["bp"]
