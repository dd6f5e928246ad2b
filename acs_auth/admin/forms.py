"""Admin forms: shape checks only; the services decide what an action may do."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from acs_auth import messages
from acs_auth.fields import no_control_characters, strip
from acs_auth.models import Role
from acs_auth.services.accounts.user_admin import UserFilters
from acs_auth.services.allowlist.entries import FILTERS, STATUS_LABELS
from acs_auth.services.audit.log import AuditFilters
from acs_auth.services.signin.api_keys import KEY_NAME_MAX
from acs_auth.services.text.addresses import EMAIL_MAX
from acs_auth.services.text.characters import has_control_characters
from acs_auth.services.text.identifiers import (
    MAX_PROGRAMS,
    is_program_id,
    program_list,
    split_program_ids,
)
from acs_auth.services.text.names import NAME_MAX

MAX_CURSOR = 2**31 - 1
ROLE_CHOICES = {r.value: r.value.replace("_", " ").capitalize() for r in Role}


def cursor_arg(name: str) -> int | None:
    """A keyset cursor from the query string: a positive row id, anything else ignored."""
    value = request.args.get(name, "")
    if not value.isdigit() or len(value) > 10 or not 0 < int(value) <= MAX_CURSOR:
        return None
    return int(value)


def filter_args(form: FlaskForm) -> dict[str, str]:
    """The non-empty filter values of a GET form, to carry into pagination links."""
    return {
        k: v for k, v in request.args.items() if k in form._fields and v and len(v) <= EMAIL_MAX
    }


class ProgramsField(TextAreaField):
    """LO Root IDs separated by ``;``, ``,``, ``|`` or whitespace, as a sorted list."""

    def _value(self) -> str:
        if isinstance(self.data, list):
            return "; ".join(self.data)
        return super()._value()

    def process_formdata(self, valuelist) -> None:
        text = valuelist[0] if valuelist else ""
        self.raw_text = text
        self.data = program_list(split_program_ids(text))

    def pre_validate(self, form) -> None:
        if len(getattr(self, "raw_text", "") or "") > 20_000:
            raise ValidationError(messages.FIELD_TOO_LONG)
        if len(self.data or []) > MAX_PROGRAMS:
            raise ValidationError(messages.ADMIN_PROGRAMS_TOO_MANY.format(limit=MAX_PROGRAMS))
        for value in self.data or []:
            if not is_program_id(value):
                shown = value if len(value) <= 40 else value[:39] + "…"
                raise ValidationError(messages.ADMIN_PROGRAMS_INVALID.format(value=shown))


class IdListField(Field):
    """Checkbox values that must be row ids; anything else is dropped."""

    def process_formdata(self, valuelist) -> None:
        ids = [int(v) for v in valuelist[:1000] if v.isdigit() and 0 < len(v) <= 10]
        self.data = [i for i in ids if i <= MAX_CURSOR]


def _name_field(label: str) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            Optional(),
            Length(max=NAME_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )


def _role_field() -> SelectField:
    return SelectField(
        "Role",
        choices=ROLE_CHOICES,
        default=Role.USER.value,
        validate_choice=True,
        invalid_choice_message=messages.ADMIN_ROLE_INVALID,
        validators=[InputRequired(messages.FIELD_REQUIRED)],
    )


class UserFilterForm(FlaskForm):
    """Search and filters of the users page (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        "Email or name starts with",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    role = SelectField(
        "Role",
        choices={"": "Any role", **ROLE_CHOICES},
        default="",
        invalid_choice_message=messages.ADMIN_CHOICE_INVALID,
    )
    password = SelectField(
        "Password",
        choices={"": "Any", "set": "Password set", "pending": "Password not set"},
        default="",
        invalid_choice_message=messages.ADMIN_CHOICE_INVALID,
    )
    locked = BooleanField("Locked only")
    inactive = BooleanField("Inactive only")

    def filters(self) -> UserFilters:
        """The validated values as the service's filters."""
        return UserFilters(
            q=self.q.data or "",
            role=self.role.data or "",
            password=self.password.data or "",
            locked=bool(self.locked.data),
            inactive=bool(self.inactive.data),
        )


class UserCreateForm(FlaskForm):
    """Add an account; it gets no password, only the setup email."""

    email = EmailField(
        "Email",
        filters=[strip],
        validators=[
            InputRequired(messages.FIELD_REQUIRED),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    first_name = _name_field("First name")
    last_name = _name_field("Last name")
    role = _role_field()
    programs = ProgramsField("LO Root IDs (programs)")


class UserEditForm(FlaskForm):
    """Role, programs and activity of an account."""

    role = _role_field()
    programs = ProgramsField("LO Root IDs (programs)")
    active = BooleanField("Account active (can sign in)")


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token (unlock, resend, sign out, invite…)."""


class ConfirmForm(FlaskForm):
    """A destructive action: the admin ticks a box to confirm."""

    confirm = BooleanField(
        "I understand this cannot be undone",
        validators=[DataRequired(messages.ADMIN_CONFIRM_REQUIRED)],
    )


def plain_file_name(form, field) -> None:
    """Refuse an uploaded file whose name holds control characters (recorded in the history)."""
    if has_control_characters(getattr(field.data, "filename", None)):
        raise ValidationError(messages.FILE_NAME_INVALID)


class UploadForm(FlaskForm):
    """The allowlist CSV and the import mode."""

    file = FileField(
        "CSV file", validators=[FileRequired(messages.ADMIN_FILE_REQUIRED), plain_file_name]
    )
    mode = RadioField(
        "Mode",
        choices={
            "merge": "Merge: add and update the people in the file, keep everyone else",
            "replace": "Replace: the file is the whole list; people not in it are removed",
        },
        default="merge",
        validators=[InputRequired(messages.FIELD_REQUIRED)],
        invalid_choice_message=messages.ADMIN_CHOICE_INVALID,
    )


class ApplyForm(FlaskForm):
    """Confirmation of a previewed upload."""

    digest = HiddenField(validators=[InputRequired(), Length(min=64, max=64)])
    skip_invalid = BooleanField("Skip the invalid rows and apply the rest")
    confirm_mass_removal = BooleanField("Yes, remove these people and deactivate their accounts")
    invite = BooleanField("Email a registration link to the people added")


class EntryFilterForm(FlaskForm):
    """Search and status filter of the allowlist page (GET)."""

    class Meta:
        csrf = False

    q = StringField(
        "Email or last name starts with",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    status = SelectField(
        "Status",
        choices={"": "Any status", **{s: STATUS_LABELS[s] for s in FILTERS}},
        default="",
        invalid_choice_message=messages.ADMIN_CHOICE_INVALID,
    )


class InviteForm(FlaskForm):
    """Bulk invitation: the ticked entries, or everyone not yet registered."""

    entry_ids = IdListField()
    scope = RadioField(
        "Send to",
        choices={"selected": "The ticked entries", "all": "Everyone not registered yet"},
        default="selected",
        validators=[InputRequired(messages.FIELD_REQUIRED)],
        invalid_choice_message=messages.ADMIN_CHOICE_INVALID,
    )


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (GET)."""

    class Meta:
        csrf = False

    actor = StringField(
        "Actor email",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    target = StringField(
        "Target email",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=EMAIL_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    event = StringField(
        "Event (or its start, such as login.)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=50, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in (self.date_from, self.date_to):  # WTForms' own wording otherwise
            field.process_errors = [messages.ADMIN_DATE_INVALID for _ in field.process_errors]

    def filters(self) -> AuditFilters:
        """The validated values as the service's filters."""
        return AuditFilters(
            actor=self.actor.data or "",
            target=self.target.data or "",
            event=self.event.data or "",
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and self.date_from.data > field.data:
            raise ValidationError(messages.ADMIN_DATE_RANGE)


class ServiceKeyForm(FlaskForm):
    """An API key an administrator makes for a service account."""

    name = StringField(
        "Key name",
        filters=[strip],
        validators=[
            DataRequired(message=messages.FIELD_REQUIRED),
            Length(max=KEY_NAME_MAX, message=messages.FIELD_TOO_LONG),
            no_control_characters,
        ],
    )
    scope = SelectField(
        "Scope",
        choices={"read": "read (GET only)", "full": "full (read and write)"},
        validate_choice=True,
    )
    expires_in_days = IntegerField(
        "Expires in (days)",
        validators=[
            Optional(),
            NumberRange(min=1, max=36500, message=messages.ADMIN_KEY_DAYS_INVALID),
        ],
    )
