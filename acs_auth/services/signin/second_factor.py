"""The seam's one question to the second factor: must this account give one before signing in?

Every entrance (browser sign-in, registration and setup completion, the API, the identity
provider's authorize step, which signs in through the browser sign-in) reaches the answer through
services.signin.seam.begin, so a factor plugged in here is asked for everywhere at once.
"""

from __future__ import annotations

from acs_auth.models import User
from acs_auth.services.signin.pending import Channel


def required(user: User, channel: Channel, amr: tuple[str, ...]) -> bool:
    """True when ``user``, signing in on ``channel`` with the methods ``amr`` so far (RFC 8176:
    ``pwd``; a passkey as first factor would bring ``hwk``/``swk``), must pass a second factor
    before a session opens.

    Never, today: no second factor can be enrolled yet (issue 15 answers it from the account's
    enrolled factors, MFA_REQUIRED_ROLES and a remembered browser, read from the request).
    """
    return False
