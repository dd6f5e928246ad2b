"""The seam's one question to the second factor: must this account give one before signing in?

Every entrance (browser sign-in, registration and setup completion, the API, the identity
provider's authorize step, which signs in through the browser sign-in) reaches the answer through
services.signin.seam.begin, so a factor plugged in here is asked for everywhere at once.
"""

from __future__ import annotations

from acs_auth.models import User
from acs_auth.services import factors
from acs_auth.services.factors import remembered
from acs_auth.services.signin.pending import Channel

PASSKEY_METHODS = {"hwk", "swk"}  # RFC 8176: a key held in hardware, or in software


def required(user: User, channel: Channel, amr: tuple[str, ...]) -> bool:
    """True when ``user``, signing in on ``channel`` with the methods ``amr`` so far (RFC 8176:
    ``pwd``; a passkey as first factor brings ``hwk``/``swk``), must pass a second factor
    before a session opens.

    When the account has a second factor in force (services.factors: an authenticator app;
    recovery codes alone are none), unless the first factor was already a passkey with user
    verification, which is two factors in one, or the browser is one the person asked to
    remember (services.factors.remembered: a signed cookie bound to the account and its factor
    stamp). The API never reads that cookie.
    """
    if PASSKEY_METHODS & set(amr):
        return False
    if not factors.has_second_factor(user):
        return False
    return channel is Channel.API or not remembered.skips_second_step(user)
