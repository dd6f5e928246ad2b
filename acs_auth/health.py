"""Health endpoints for load balancers: /healthz (process) and /readyz (dependencies)."""

from flask import Blueprint

bp = Blueprint("health", __name__)
