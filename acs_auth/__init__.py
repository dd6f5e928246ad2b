"""acs_auth: the sign-in portal of an allowlist-authorized chatbot service."""

from __future__ import annotations

from flask import Flask

from acs_auth import (
    account,
    admin,
    api,
    auth,
    checks,
    cli,
    errors,
    health,
    kept_forms,
    key_rotation,
    logs,
    metrics,
    mfa,
    oidc,
    passkeys,
    passwords,
    programs,
    registration,
    security,
)
from acs_auth.extensions import bcrypt, csrf, init_database, limiter, login_manager, mail
from acs_auth.mfa import policy_hooks
from acs_auth.services.factors import crypto
from acs_auth.services.mail import delivery
from acs_auth.services.monitoring import alerts
from config import CONFIGS, env_str

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the application: configuration, extensions, blueprints, handlers, commands."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    register_config(app, config_name, overrides)
    logs.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    metrics.init_app(app)
    alerts.init_app(app)
    errors.init_app(app)
    kept_forms.init_app(app)
    cli.init_app(app)
    return app


def register_config(app: Flask, config_name: str | None, overrides: dict) -> None:
    """Load the class named by ACS_CONFIG, then explicit overrides, then validate."""
    name = config_name or env_str("ACS_CONFIG", "development")
    app.config.from_object(CONFIGS[name])
    app.config.update(overrides)
    checks.apply_defaults(app)
    checks.refuse_weak_settings(app)
    key_rotation.init_app(app)
    crypto.init_app(app)


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of acs_auth.extensions to this app."""
    init_database(app)
    csrf.init_app(app)
    bcrypt.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    security.init_login_manager(login_manager)
    delivery.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Mount every feature blueprint; the API is CSRF-exempt because it never reads cookies."""
    for module in (auth, registration, passwords, account, mfa, passkeys, programs, admin, health):
        app.register_blueprint(module.bp)
    app.register_blueprint(mfa.signin_bp)
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.reference.bp)  # /api/docs: HTML for people, not an operation
    api.quotas.init_app(app)  # per-account and per-key budgets on every registered API view
    oidc.init_app(app)


def register_request_hooks(app: Flask) -> None:
    """Proxy handling, request ids, security headers, cache rules, second-factor enrolment."""
    security.init_app(app)
    policy_hooks.init_app(app)
