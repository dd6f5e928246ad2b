"""Demo data for a laptop: the sample allowlist and an administrator with a generated password."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from acs_auth.services import allowlist, maintenance
from acs_auth.services.accounts import AccountExists

DEMO_ADMIN_EMAIL = "admin@example.org"
DEMO_ALLOWLIST = Path(__file__).resolve().parents[2] / "data" / "demo_allowlist.csv"


@dataclass
class SeedResult:
    """What seeding did: the import's counts, and the admin password when one was created."""

    imported: allowlist.ImportResult
    admin_email: str
    admin_password: str | None


def seed(csv_path: Path = DEMO_ALLOWLIST) -> SeedResult:
    """Merge the demo allowlist and create the demo admin unless it exists (idempotent).

    The admin gets a freshly generated password, returned once so the caller can show it;
    running the seed again never changes or reveals an existing password.
    """
    imported = allowlist.import_file(csv_path.read_bytes(), file_name=csv_path.name, mode="merge")
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
