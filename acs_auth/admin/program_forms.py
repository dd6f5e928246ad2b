"""Admin forms for the program catalogue: shape checks only (the catalogue service decides)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from acs_auth import messages
from acs_auth.fields import no_control_characters, strip
from acs_auth.services.programs.catalogue import MAX_DESCRIPTION, MAX_NAME, MAX_URL
from acs_auth.services.text.identifiers import PROGRAM_ID_MAX


class ProgramForm(FlaskForm):
    """One program of the catalogue."""

    lo_root_id = StringField(
        "LO Root ID",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=PROGRAM_ID_MAX, message=messages.FIELD_TOO_LONG),
        ],
    )
    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=MAX_NAME, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    description = TextAreaField(
        "Description",
        filters=[strip],
        validators=[Optional(), Length(max=MAX_DESCRIPTION, message=messages.FIELD_TOO_LONG)],
    )
    launch_url = StringField(
        "Launch URL",
        filters=[strip],
        validators=[Optional(), Length(max=MAX_URL, message=messages.FIELD_TOO_LONG)],
    )
    active = BooleanField("Active (offered on /programs)", default=True)


class ProgramImportForm(FlaskForm):
    """A catalogue CSV."""

    file = FileField("CSV file", validators=[FileRequired(messages.ADMIN_FILE_REQUIRED)])
