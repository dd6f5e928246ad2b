"""Demo data for a laptop: the sample allowlist and an administrator with a generated password."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, or_, select

from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, AllowlistImport
from acs_auth.services.accounts.accounts import AccountExists
from acs_auth.services.allowlist import imports
from acs_auth.services.operations import maintenance

DEMO_ADMIN_EMAIL = "admin@example.org"
DEMO_ALLOWLIST = Path(__file__).resolve().parents[3] / "data" / "demo_allowlist.csv"


@dataclass
class SeedResult:
    """What seeding did: the import's counts (None: not imported again), the admin password."""

    imported: imports.ImportResult | None
    admin_email: str
    admin_password: str | None


def seed(csv_path: Path = DEMO_ALLOWLIST, *, force: bool = False) -> SeedResult:
    """Import the demo allowlist once, and create the demo admin unless it exists.

    The allowlist is imported only while nothing was ever imported and it holds no entry, so
    running the seed again (every `make run`) never undoes an administrator's removals or edits;
    ``force`` merges the file anyway. The admin gets a freshly generated password, returned once
    so the caller can show it; running the seed again never changes or reveals it.
    """
    imported = None
    if force or not allowlist_in_use():
        imported = imports.import_file(csv_path.read_bytes(), file_name=csv_path.name, mode="merge")
    password = None
    if not maintenance.account_exists(DEMO_ADMIN_EMAIL):
        candidate = maintenance.generate_password(DEMO_ADMIN_EMAIL)
        try:
            maintenance.create_admin(
                DEMO_ADMIN_EMAIL, candidate, first_name="Demo", last_name="Administrator"
            )
            password = candidate
        except AccountExists:
            pass  # created by a concurrent seed a moment ago: that run shows its password
    return SeedResult(imported=imported, admin_email=DEMO_ADMIN_EMAIL, admin_password=password)


def allowlist_in_use() -> bool:
    """True once anything was imported (the seed's own import included) or an entry exists."""
    return bool(
        db.session.scalar(
            select(or_(exists(select(AllowlistImport.id)), exists(select(AllowlistEntry.id))))
        )
    )
