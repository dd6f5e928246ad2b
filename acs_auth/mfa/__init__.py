"""The second-factor blueprint: enrolment on /account and the second step of sign-in."""

from acs_auth.mfa.signin_views import bp as signin_bp
from acs_auth.mfa.views import bp

__all__ = ["bp", "signin_bp"]
