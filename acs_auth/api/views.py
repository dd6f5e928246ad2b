"""The JSON API blueprint (mounted under /api)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")
