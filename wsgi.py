"""WSGI entry point for gunicorn and `flask --app wsgi`."""

from acs_auth import create_app

app = create_app()
