"""The JSON API blueprint (mounted under /api): hooks, error handlers and the sub-blueprints."""

from flask import Blueprint, jsonify

from acs_auth.api import (
    account_views,
    admin_clients_views,  # noqa: F401  (adds its routes to admin_views.bp)
    admin_programs_views,  # noqa: F401  (adds its routes to admin_views.bp)
    admin_views,
    auth_views,
    guards,
    openapi,
    programs_views,
)
from acs_auth.api.contract import Invalid, Response, validate
from acs_auth.api.problems import validation_failed
from acs_auth.api.schemas.meta import Document, Pong
from acs_auth.extensions import csrf
from acs_auth.services.signin import jwt_tokens

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(guards.check_request)

for child in (
    auth_views.bp,
    account_views.bp,
    admin_views.bp,
    programs_views.bp,
):
    # The API never reads the session cookie, so cross-site requests carry no authority and
    # need no CSRF token; Flask-WTF's exemption of a parent does not reach nested blueprints.
    csrf.exempt(child)
    bp.register_blueprint(child)


@bp.record_once
def _load_keys(state) -> None:
    # A missing or unusable JWT key file stops the start-up instead of the first sign-in.
    jwt_tokens.init_app(state.app)


@bp.errorhandler(Invalid)
def _invalid(exc: Invalid):
    return validation_failed(exc.errors)


@bp.get("/ping")
@guards.public
@validate(resp=Response(HTTP_200=Pong), tags=("meta",))
def ping():
    """A bare JSON answer.

    For health checks, and the baseline of the benchmarks.
    """
    return jsonify(pong=True)


@bp.get("/openapi.json")
@guards.public
@validate(resp=Response(HTTP_200=Document), tags=("meta",))
def openapi_document():
    """This document.

    The OpenAPI 3.1 description of this API, generated from the models the views validate
    with; its human reference is /api/docs.
    """
    return jsonify(openapi.document())
