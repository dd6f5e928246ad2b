"""WSGI entry point for gunicorn and `flask --app wsgi`."""

from acs_auth import create_app
from acs_auth.checks import exit_on_refusal

# A refused configuration is one line on stderr and exit status 1, not a traceback.
with exit_on_refusal():
    app = create_app()
