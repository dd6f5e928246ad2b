"""Models of the API's own endpoints: the ping and this document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import RootModel

from acs_auth.api.schemas.fields import Answer, examples


class Pong(Answer):
    """A bare JSON answer."""

    model_config = examples({"pong": True})

    pong: Literal[True]


class Document(RootModel[dict[str, Any]]):
    """The OpenAPI 3.1 document."""

    model_config = examples(
        {"openapi": "3.1.0", "info": {"title": "ACS Portal API", "version": "1.0.0"}, "paths": {}}
    )
