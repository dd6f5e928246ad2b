"""The api blueprint, and the request budgets put on its views once it is registered."""

from acs_auth.api import quotas
from acs_auth.api.views import bp

__all__ = ["bp", "quotas"]
