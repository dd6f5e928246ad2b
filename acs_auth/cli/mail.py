"""`flask mail …` commands."""

from flask.cli import AppGroup

group = AppGroup("mail", help="mail commands.")
