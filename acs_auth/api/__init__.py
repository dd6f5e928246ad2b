"""The api blueprint, the request budgets put on its views, and its reference pages."""

from acs_auth.api import quotas, reference
from acs_auth.api.views import bp

__all__ = ["bp", "quotas", "reference"]
