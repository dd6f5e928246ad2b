"""Uploaded allowlist files between the preview and the admin's confirmation.

The bytes are kept in the ``allowlist_uploads`` table under a random token bound to the admin
who uploaded them, not in a worker's memory or on one host's disk: the confirmation may land on
any worker or host behind the load balancer (DESIGN §11). Each admin has at most one pending
upload; uploads expire after UPLOAD_LIFETIME and are applied at most once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from acs_auth.extensions import db
from acs_auth.models import AllowlistImport, AllowlistUpload, User, utcnow
from acs_auth.services import audit
from acs_auth.services.allowlist import imports
from acs_auth.services.allowlist.imports import Preview
from acs_auth.services.text.characters import without_control_characters

UPLOAD_LIFETIME = timedelta(hours=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


class UploadMissing(LookupError):
    """No pending upload has this token for this admin (expired, applied, or someone else's)."""


class PreviewOutdated(RuntimeError):
    """The allowlist changed since the preview was shown; ``preview`` is the fresh one."""

    def __init__(self, preview: Preview) -> None:
        super().__init__("preview outdated")
        self.preview = preview


def clean_file_name(name: str | None) -> str:
    """The base name of an uploaded file, without path parts or control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    return without_control_characters(base).strip()[:255]


def stage(data: bytes, *, file_name: str, mode: str, actor: User) -> str:
    """Check the file (CsvRejected), keep it for the preview and return its token (one commit)."""
    if mode not in imports.MODES:
        raise ValueError("unknown mode")
    imports.parse_upload(data)  # file-level problems are answered on the upload form
    now = utcnow()
    db.session.execute(
        delete(AllowlistUpload).where(
            (AllowlistUpload.actor_id == actor.id)
            | (AllowlistUpload.created_at < now - UPLOAD_LIFETIME)
        )
    )
    upload = AllowlistUpload(
        token=secrets.token_urlsafe(32),
        actor_id=actor.id,
        file_name=clean_file_name(file_name),
        sha256=hashlib.sha256(data).hexdigest(),
        mode=mode,
        data=data,
        created_at=now,
    )
    db.session.add(upload)
    audit.record(
        "allowlist.uploaded",
        actor=actor,
        file_name=upload.file_name,
        sha256=upload.sha256,
        size=len(data),
        mode=mode,
    )
    db.session.commit()
    return upload.token


def load(token: str | None, actor: User) -> AllowlistUpload | None:
    """The admin's own pending upload with ``token``, while it has not expired."""
    if not token or not _TOKEN.fullmatch(token):
        return None
    return db.session.scalar(
        select(AllowlistUpload).where(
            AllowlistUpload.token == token,
            AllowlistUpload.actor_id == actor.id,
            AllowlistUpload.created_at >= utcnow() - UPLOAD_LIFETIME,
        )
    )


def preview(upload: AllowlistUpload) -> Preview:
    """The preview of a pending upload against the allowlist as it is now."""
    return imports.preview_bytes(upload.data, file_name=upload.file_name, mode=upload.mode)


def confirm(
    token: str,
    actor: User,
    *,
    digest: str,
    skip_invalid: bool,
    confirm_mass_removal: bool,
) -> tuple[AllowlistImport, Preview]:
    """Apply a pending upload exactly as previewed, then forget it (one commit).

    Raises UploadMissing, PreviewOutdated (the allowlist changed since the preview: the admin
    must look again) or allowlist.ImportBlocked (bad rows or a mass removal not accepted).
    """
    upload = load(token, actor)
    if upload is None:
        raise UploadMissing()
    fresh = preview(upload)
    if not hmac.compare_digest(fresh.digest.encode(), (digest or "").encode()):
        raise PreviewOutdated(fresh)
    imports.check_allowed(
        fresh, skip_invalid=skip_invalid, confirm_mass_removal=confirm_mass_removal
    )
    # Applied at most once: the delete commits with the import, and of two confirmations racing
    # for the same upload the second finds nothing to delete and rolls back entirely.
    db.session.delete(upload)
    try:
        batch = imports.apply(
            fresh,
            actor=actor,
            skip_invalid=skip_invalid,
            confirm_mass_removal=confirm_mass_removal,
        )
    except StaleDataError:
        raise UploadMissing() from None
    except imports.ImportConflict:
        raise PreviewOutdated(imports.rebuild_preview(fresh)) from None
    return batch, fresh


def discard(token: str, actor: User) -> bool:
    """Drop a pending upload without applying it (one commit)."""
    upload = load(token, actor)
    if upload is None:
        return False
    db.session.delete(upload)
    audit.record("allowlist.upload_discarded", actor=actor, file_name=upload.file_name)
    db.session.commit()
    return True
