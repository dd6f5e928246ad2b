"""The provider's endpoints: discovery, keys, authorize, token, userinfo, introspect, revoke,
end session, and the person's list of apps they agreed to."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError
from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from acs_auth import messages, security
from acs_auth.extensions import csrf, db
from acs_auth.oidc import keys, policy, store
from acs_auth.oidc.keys import issuer
from acs_auth.oidc.server import SCOPES, current_server
from acs_auth.services.accounts import accounts
from acs_auth.services.signin import browser

bp = Blueprint("oidc", __name__)


@bp.before_request
def _provider_on():
    """Production without an asymmetric key serves no OpenID Connect (see oidc.keys)."""
    if not keys.enabled():
        abort(404)


@bp.after_app_request
def _allow_the_redirect_back(response):
    """Let the sign-in and consent forms' redirect chain end at the client's redirect URI.

    Browsers apply the form page's CSP ``form-action`` to every redirect after the POST, so
    the chain /login → /oauth/authorize → client would stop at the client. The origin added
    is that of a redirect URI registered, exactly, for the client named in the request.
    """
    if request.endpoint in ("auth.login", "oidc.authorize") and response.mimetype == "text/html":
        origin = policy.redirect_origin(request.args)
        if origin:
            response.headers["Content-Security-Policy"] = security.CSP.replace(
                "form-action 'self'", f"form-action 'self' {origin}"
            )
    return response


def _finish(response):
    """Commit what the exchange recorded when it succeeded; forget it otherwise."""
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/openid-configuration")
def discovery():
    """OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414)."""
    base = issuer()
    return jsonify(
        issuer=base,
        authorization_endpoint=base + url_for("oidc.authorize"),
        token_endpoint=base + url_for("oidc.token"),
        userinfo_endpoint=base + url_for("oidc.userinfo"),
        jwks_uri=base + url_for("oidc.jwks"),
        revocation_endpoint=base + url_for("oidc.revoke"),
        introspection_endpoint=base + url_for("oidc.introspect"),
        end_session_endpoint=base + url_for("oidc.end_session"),
        scopes_supported=SCOPES,
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "refresh_token"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=[keys.signing_key().algorithm],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
        revocation_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported=["S256"],
        claims_supported=[
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
            "email",
            "email_verified",
            "name",
            "given_name",
            "family_name",
            "programs",
        ],
        prompt_values_supported=["none", "login", "consent"],
        authorization_response_iss_parameter_supported=True,
        backchannel_logout_supported=True,
        backchannel_logout_session_supported=True,
        frontchannel_logout_supported=False,
    )


@bp.get("/.well-known/jwks.json")
def jwks():
    """The public keys of the API and of the provider (one keyring, one rotation)."""
    response = jsonify(keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _authorize_error(error: OAuth2Error):
    """Errors before the redirect URI is trusted get a page; after, a redirect with iss."""
    if getattr(error, "redirect_uri", None):
        params = dict(error.get_body())
        if request.values.get("state"):
            params["state"] = request.values["state"]
        params["iss"] = issuer()
        return redirect(add_params_to_uri(error.redirect_uri, params))
    return render_template(
        "oidc/error.html", title=messages.OIDC_BAD_REQUEST, detail=error.description
    ), 400


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    """The authorization endpoint: code flow with PKCE, the portal's own sign-in, consent."""
    server = current_server()
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _authorize_error(error)
    if policy.needs_login(user, grant):
        if user is not None:  # prompt=login or max_age: the password is asked for again
            accounts.sign_out(user.auth_session)
            browser.end()
        return redirect(policy.login_url())
    client = grant.client
    if not policy.holds_program(user, client):
        policy.record_refusal(user, client)
        db.session.commit()
        detail = messages.OIDC_NO_PROGRAM.format(client=client.name)
        return render_template("oidc/no_program.html", client=client, detail=detail), 403
    scope = grant.request.payload.scope or ""
    if request.method == "POST":
        if request.form.get("decision") != "allow":
            return _finish(server.create_authorization_response(grant=grant, grant_user=None))
        store.grant_consent(user, client, scope)
    elif not store.has_consent(user, client, scope):
        if "none" in (request.args.get("prompt") or "").split():
            return _authorize_error(ConsentRequiredError(redirect_uri=grant.redirect_uri))
        return render_template("oidc/consent.html", client=client, scopes=scope.split())
    g.oidc_session = user.auth_session
    return _finish(server.create_authorization_response(grant=grant, grant_user=user))


@bp.post("/oauth/token")
@csrf.exempt
def token():
    """The token endpoint: authorization_code and refresh_token grants."""
    return _finish(current_server().create_token_response())


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo():
    """The claims of the bearer access token's scope."""
    return _finish(current_server().create_endpoint_response("userinfo"))


@bp.post("/oauth/introspect")
@csrf.exempt
def introspect():
    """RFC 7662 token introspection, for confidential clients."""
    return _finish(current_server().create_endpoint_response("introspection"))


@bp.post("/oauth/revoke")
@csrf.exempt
def revoke():
    """RFC 7009 token revocation."""
    return _finish(current_server().create_endpoint_response("revocation"))


@bp.route("/oauth/logout", methods=["GET", "POST"])
def end_session():
    """RP-initiated logout: ends the portal session; back to a registered URI only."""
    server = current_server()
    try:
        req = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return render_template(
            "oidc/error.html", title=messages.OIDC_BAD_REQUEST, detail=error.description
        ), 400
    if req.needs_confirmation and request.method == "GET":
        return render_template("oidc/logout_confirm.html", client=req.client)
    response = server.create_endpoint_response("end_session", req)
    return response or render_template("oidc/logged_out.html")


@bp.get("/account/apps")
@login_required
def apps():
    """The apps this person agreed to share their details with."""
    return render_template("oidc/apps.html", consents=store.consents_of(current_user))


@bp.post("/account/apps/<client_id>/revoke")
@login_required
def revoke_consent(client_id: str):
    """Withdraw consent: the app must ask again, and its tokens for this person end."""
    if store.withdraw_consent(current_user, client_id):
        flash(messages.OIDC_CONSENT_WITHDRAWN, "success")
    return redirect(url_for("oidc.apps"))
