"""One shape of "an account" for code that reads one without changing it.

Three things stand for an account: the ORM ``User`` (what views and services change), the
API's ``Caller`` (services.signin.api_auth: a read-only snapshot from the one-row credential
lookup) and the lifecycle's ``AccountRow`` (services.allowlist.lifecycle: the columns a
100k-row import reads). Each offers ``Account``, so code that only needs to know who someone
is (the audit trail, the lifecycle's history rows) takes an Account and accepts any of them.
A person's programs, where a shape carries them, are always a sorted list of unique LO Root
IDs (services.text.identifiers.program_list).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Account(Protocol):
    """Who an account is and whether it may act: what every shape of an account offers."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def is_active(self) -> bool: ...
