"""acs_auth as an OpenID Connect provider (Authlib's server, our policy).

Modules: ``server`` (Authlib configured), ``store`` (codes, tokens, subjects, consents),
``policy`` (who gets a code), ``keys`` (ID token signing key, JWKS), ``logout`` (RP-initiated
and back-channel logout), ``clients`` (registration by admins), ``views`` (the endpoints).
It may import models and services; nothing outside it imports it except the app factory and
the CLI.
"""

from flask import Flask

from acs_auth.oidc import logout, server, views


def init_app(app: Flask) -> None:
    """Build the server, mount the endpoints and listen for ended sessions."""
    server.init_app(app)
    logout.init_app(app)
    app.register_blueprint(views.bp)
