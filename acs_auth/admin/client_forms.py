"""The admin form for an OpenID Connect client: shape only (oidc.clients checks the URIs)."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from acs_auth import messages
from acs_auth.fields import no_control_characters, strip
from acs_auth.oidc.clients import CLIENT_NAME_MAX


def lines(value: str | None) -> list[str]:
    """One item per line (or separated by spaces and commas)."""
    return [v for v in re.split(r"[\s,]+", value or "") if v]


class ClientForm(FlaskForm):
    """Registration of a client."""

    name = StringField(
        "Name",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=CLIENT_NAME_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    redirect_uris = TextAreaField(
        "Redirect URIs (one per line, matched exactly)",
        validators=[InputRequired(messages.FIELD_REQUIRED), Length(max=20000)],
    )
    post_logout_uris = TextAreaField(
        "Post-logout redirect URIs", validators=[Optional(), Length(max=20000)]
    )
    backchannel_uri = StringField(
        "Back-channel logout URI", filters=[strip], validators=[Optional(), Length(max=2000)]
    )
    programs = TextAreaField(
        "Programs (LO Root IDs) it serves", validators=[Optional(), Length(max=20000)]
    )
    first_party = BooleanField("First-party (no consent screen)")
    public = BooleanField("Public client (no secret; PKCE only)")
    active = BooleanField("Active", default=True)
