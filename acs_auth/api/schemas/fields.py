"""Base classes and field types shared by the API's models.

Request bodies are strict (JSON ``true`` is no integer, ``"12"`` no number) and closed (an
undocumented field is refused by name: no ``role`` or ``is_active`` through self-service).
Query strings arrive as text, so their integers are converted, and their booleans are only the
words ``true`` and ``false``. Answers are closed too, so a leaked field fails the tests.
Control characters are refused in every string except the secrets a person chose (a NUL would
be a 500 on PostgreSQL; a password only bcrypt sees).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from acs_auth.services.text.addresses import (
    EMAIL_MAX,
    InvalidEmail,
    LookalikeEmail,
    validate_address,
)
from acs_auth.services.text.characters import PASSWORD_MAX, has_control_characters
from acs_auth.services.text.identifiers import (
    PROGRAM_ID_MAX,
    PROGRAM_ID_REGEX,
    USERNAME_MAX,
    USERNAME_REGEX,
)
from acs_auth.services.text.names import NAME_MAX


class Body(BaseModel):
    """A JSON request body: exactly the declared fields, each of exactly its type."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """A query string: the declared parameters only; integers converted from their digits."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """A JSON answer; ``no_store``: it holds a secret and carries Cache-Control: no-store."""

    model_config = ConfigDict(extra="forbid")
    no_store: ClassVar[bool] = False


def examples(*values: dict) -> ConfigDict:
    """A model's examples, shown in the reference and sent by the fuzzing's example phase."""
    return ConfigDict(json_schema_extra={"examples": list(values)})


def _no_controls(value: str) -> str:
    if has_control_characters(value):
        raise PydanticCustomError("control_characters", "control characters")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "blank")
    return value


def _email(value: str) -> str:
    try:
        validate_address(value)
    except LookalikeEmail:
        raise PydanticCustomError("email_lookalike", "lookalike address") from None
    except InvalidEmail:
        raise PydanticCustomError("email_invalid", "invalid address") from None
    return value


def _flag(value: object) -> object:
    """Only the words true and false are booleans in a query string."""
    return {"true": True, "false": False}.get(value, value) if isinstance(value, str) else value


def text(max_length: int, *, required: bool = True, description: str | None = None):
    """A string of at most ``max_length`` characters, without control characters.

    ``required``: not empty or only spaces (the policy of the pages' forms).
    """
    checks = [AfterValidator(_no_controls)]
    if required:
        checks.append(AfterValidator(_not_blank))
    bounds = Field(max_length=max_length, min_length=1 if required else None)
    if description:
        bounds = Field(max_length=max_length, min_length=bounds.min_length, description=description)
    return Annotated[str, bounds, *checks]


# Bounds: the database columns; for passwords a generous cap above the policy's 128, so an
# over-long password is told "too long" by the policy rather than refused as malformed input.
_TEXT = (AfterValidator(_no_controls), AfterValidator(_not_blank))
Email = Annotated[str, Field(max_length=EMAIL_MAX, min_length=1), *_TEXT, AfterValidator(_email)]
Identifier = Annotated[str, Field(max_length=EMAIL_MAX, min_length=1), *_TEXT]
Secret = Annotated[str, Field(max_length=PASSWORD_MAX, min_length=1), AfterValidator(_not_blank)]
Token = Annotated[str, Field(max_length=4096, min_length=1), *_TEXT]
Name = text(NAME_MAX, required=False)
Username = Annotated[
    str,
    Field(
        max_length=USERNAME_MAX,
        pattern=f"^{USERNAME_REGEX}$",
        description="3 to 64 letters, digits, dots, dashes or underscores; null removes it.",
    ),
]
ProgramId = Annotated[str, Field(max_length=PROGRAM_ID_MAX, pattern=f"^{PROGRAM_ID_REGEX}$")]
Flag = Annotated[StrictBool, BeforeValidator(_flag)]
Cursor = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Problem(BaseModel):
    """RFC 9457 problem details; ``type`` names the kind of error (see /api/problems)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "http://127.0.0.1:5000/api/problems/validation-error",
                    "title": "Validation error",
                    "status": 422,
                    "detail": "Some fields are missing or invalid.",
                    "errors": {"email": ["Enter a valid email address."]},
                }
            ]
        },
    )

    type: str = Field(description="A URI naming the kind of error; it opens its explanation.")
    title: str
    status: int
    detail: str = Field(None, description="What went wrong with this request.")
    errors: dict[str, list[str]] = Field(None, description="Per-field messages (422).")
