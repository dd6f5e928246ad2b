"""Models of /api/programs (the caller's programs) and /api/admin/programs, /api/admin/clients."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from acs_auth.api.schemas.fields import Answer, Body, Flag, ProgramId, Query, examples, text
from acs_auth.oidc.clients import CLIENT_NAME_MAX
from acs_auth.services.programs import catalogue
from acs_auth.services.text.identifiers import MAX_PROGRAMS

STAMP = "2026-12-05T08:00:00+00:00"
ITEM = {
    "lo_root_id": "PROG-1",
    "name": "Chemistry",
    "description": "The chemistry tutor",
    "launch_url": "https://chat.example.org/p1",
}
CATALOGUE_PROGRAM = {**ITEM, "active": True, "created_at": STAMP, "updated_at": STAMP}
CLIENT = {
    "client_id": "c2f9a1",
    "name": "Chatbot",
    "public": False,
    "first_party": True,
    "active": True,
    "redirect_uris": ["https://chat.example.org/callback"],
    "post_logout_redirect_uris": [],
    "backchannel_logout_uri": None,
    "programs": ["PROG-1"],
    "created_at": STAMP,
}
Uri = text(catalogue.MAX_URL)
OptionalUri = text(catalogue.MAX_URL, required=False)
Description = text(catalogue.MAX_DESCRIPTION, required=False)
ProgramName = text(catalogue.MAX_NAME)
ClientName = text(CLIENT_NAME_MAX)


class ProgramItem(Answer):
    """A program the caller may use, with the catalogue's fields."""

    lo_root_id: str
    name: str
    description: str
    launch_url: str | None


class Programs(Answer):
    """The caller's programs: LO Root IDs, sorted, and the catalogue's fields for each."""

    model_config = examples({"programs": ["PROG-1"], "items": [ITEM]})

    programs: list[str]
    items: list[ProgramItem]


class Program(Answer):
    """One program the caller is authorized for."""

    model_config = examples(
        {
            "id": "PROG-1",
            "authorized": True,
            "url": "https://chat.example.org/p1",
            "name": "Chemistry",
            "description": "The chemistry tutor",
        }
    )

    id: str
    authorized: Literal[True]
    url: str | None
    name: str
    description: str


class CatalogueProgram(Answer):
    """A catalogue entry."""

    model_config = examples(CATALOGUE_PROGRAM)

    lo_root_id: str
    name: str
    description: str
    launch_url: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class CatalogueProgramList(Answer):
    """Every program of the catalogue, active or not."""

    model_config = examples({"items": [CATALOGUE_PROGRAM]})

    items: list[CatalogueProgram]


class ProgramUpdate(Body):
    """The fields to change."""

    model_config = examples({"name": "Chemistry (advanced)", "active": False})

    name: ProgramName = None
    description: Description = None
    launch_url: OptionalUri | None = Field(None, description="http(s) URL.")
    active: bool = None


class ProgramCreate(ProgramUpdate):
    """A new catalogue entry."""

    model_config = examples({"lo_root_id": "PROG-2", "name": "Physics"})

    lo_root_id: ProgramId
    name: ProgramName


class ProgramImport(Query):
    """Options of a catalogue import."""

    dry_run: Flag = Field(False, description="true: report, change nothing.")


class CatalogueImport(Answer):
    """What the import did (or, for a dry run, would do)."""

    model_config = examples({"added": ["PROG-2"], "changed": [], "unchanged": 1, "dry_run": False})

    added: list[str]
    changed: list[str]
    unchanged: int
    dry_run: bool


class Client(Answer):
    """An OpenID Connect client."""

    model_config = examples(CLIENT)

    client_id: str
    name: str
    public: bool
    first_party: bool
    active: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None
    programs: list[str]
    created_at: datetime


class ClientCreated(Client):
    """The client just registered; a confidential client's secret is in this answer only."""

    no_store = True
    model_config = examples({**CLIENT, "client_secret": "s3cr3t…"})

    client_secret: str | None = Field(description="null for a public client.")


class ClientList(Answer):
    """Every registered client."""

    model_config = examples({"items": [CLIENT]})

    items: list[Client]


class _ClientFields(Body):
    """The fields a client is registered with."""

    name: ClientName = None
    redirect_uris: list[Uri] = Field(None, max_length=20)
    post_logout_redirect_uris: list[Uri] = Field(None, max_length=20)
    backchannel_logout_uri: OptionalUri | None = None
    programs: list[ProgramId] = Field(None, max_length=MAX_PROGRAMS)
    first_party: bool = Field(None, description="true: no consent screen.")


class ClientUpdate(_ClientFields):
    """The fields to change."""

    model_config = examples({"redirect_uris": ["https://chat.example.org/callback"]})

    active: bool = None


class ClientCreate(_ClientFields):
    """A new client; without ``public``, a confidential one with a secret."""

    model_config = examples(
        {"name": "Chatbot", "redirect_uris": ["https://chat.example.org/callback"]}
    )

    name: ClientName
    redirect_uris: list[Uri] = Field(max_length=20)
    public: bool = Field(False, description="true: no secret, PKCE only.")
