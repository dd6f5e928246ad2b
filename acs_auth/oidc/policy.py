"""Who may get a code: sign-in freshness (prompt, max_age), programs, and consent.

The authorization endpoint asks these questions in this order; each answer is a decision the
view turns into a page or a redirect.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import request, url_for

from acs_auth.models import OAuthClient, User
from acs_auth.oidc import store
from acs_auth.services import audit


def needs_login(user: User | None, grant) -> bool:
    """True when nobody is signed in, prompt=login was asked, or max_age has passed."""
    if user is None:
        return True
    prompts = (grant.request.payload.data.get("prompt") or "").split()
    if "login" in prompts:
        return True
    max_age = grant.request.payload.data.get("max_age")
    if max_age is not None:
        if not (max_age.isascii() and max_age.isdigit()) or len(max_age) > 9:
            return False  # not a number of seconds: ignored, like any unknown parameter
        signed_in_at = user.auth_session.created_at.timestamp()
        return time.time() - signed_in_at > int(max_age)
    return False


def login_url() -> str:
    """The portal's sign-in page, coming back here afterwards.

    prompt and max_age are dropped from the way back: the sign-in that follows satisfies them
    (auth_time says when it happened), and keeping them would ask again forever (max_age=0).
    """
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("prompt", "max_age")]
    back = url_for("oidc.authorize") + ("?" + urlencode(args) if args else "")
    return url_for("auth.login", next=back)


def holds_program(user: User, client: OAuthClient) -> bool:
    """A client tied to programs only serves people who hold one of them."""
    if not client.programs:
        return True
    return bool(set(client.programs) & set(user.program_ids))


def record_refusal(user: User, client: OAuthClient) -> None:
    """Audit a person turned away for lacking the client's programs."""
    audit.record(
        "oidc.denied_program",
        actor=user,
        target=user,
        client=client.client_id,
        programs=sorted(client.programs),
    )


def redirect_origin(args) -> str | None:
    """The origin of the registered redirect URI this authorization request (or the one in
    its ``next``) names; None when there is none or it is not registered for its client."""
    params = args
    nxt = args.get("next") or ""
    if nxt.startswith("/oauth/authorize?"):
        params = {k: v[0] for k, v in parse_qs(urlsplit(nxt).query).items()}
    client = store.find_client(params.get("client_id"))
    uri = params.get("redirect_uri")
    if client is None or not uri or not client.check_redirect_uri(uri):
        return None
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"
