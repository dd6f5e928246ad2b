"""The admin blueprint: ``bp`` comes from views.py; the other modules add their routes to it."""

from acs_auth.admin import (  # noqa: F401  (they add their routes to bp)
    allowlist_views,
    client_views,
    outbox_views,
    program_views,
    security_views,
    user_views,
)
from acs_auth.admin.views import bp

__all__ = ["bp"]
