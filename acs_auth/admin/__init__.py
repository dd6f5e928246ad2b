"""The admin blueprint: ``bp`` comes from views.py; the other modules add their routes to it."""

from acs_auth.admin import allowlist_views, outbox_views, user_views  # noqa: F401  (routes)
from acs_auth.admin.views import bp

__all__ = ["bp"]
