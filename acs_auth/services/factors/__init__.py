"""Second factors (issue 15): authenticator apps, recovery codes, passkeys, remembered browsers.

Imports models, the audit and mail services and the sign-in services below it; never views.
``state`` answers which factors a person has; ``crypto`` keeps their secrets encrypted at rest.
"""

from acs_auth.services.factors.state import enrolled, factor_stamp, has_second_factor, overview

__all__ = ["enrolled", "factor_stamp", "has_second_factor", "overview"]
