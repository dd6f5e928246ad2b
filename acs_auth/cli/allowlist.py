"""`flask allowlist …` commands."""

from flask.cli import AppGroup

group = AppGroup("allowlist", help="allowlist commands.")
