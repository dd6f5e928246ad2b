"""passwords views."""

from flask import Blueprint

bp = Blueprint("passwords", __name__)
