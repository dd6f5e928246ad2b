"""MFA_ENCRYPTION_KEYS rotation, as docs/operations.md tells it: what the old key encrypted is
read while the old key stays behind the new one, `flask mfa rotate-key` moves it to the new key,
and once the old key is dropped only what was re-encrypted can be read.

Three deployments of one database stand for the moments of the runbook: before (old key),
during (new key first, old key after it) and after (new key alone). The authenticator key an
enrolment page shows is read back from the database through the configured keys, so the page
says whether the stored secret can be decrypted.
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from test_mfa_signin import send_code
from test_runbooks import follow

from acs_auth import messages
from acs_auth.checks import UnsafeConfiguration
from acs_auth.services.factors import crypto
from tests.support.mfa import ENROL, begin, code_for, enrol, key_on
from tests.support.web import AuthActions

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def moments(app, make_app):
    """(before, during, after) apps: old key; new key then the old one; new key alone."""
    return (
        make_app(MFA_ENCRYPTION_KEYS=OLD_KEY),
        make_app(MFA_ENCRYPTION_KEYS=f"{NEW_KEY}, {OLD_KEY}"),
        make_app(MFA_ENCRYPTION_KEYS=NEW_KEY),
    )


def signed_in(app):
    """A browser signed in as Ada on ``app``."""
    client = app.test_client()
    assert AuthActions(client).login("ada@example.org").status_code == 302
    return client


def shown_key(app) -> str | None:
    """The key Ada's enrolment page shows on ``app``; None when it cannot show one."""
    page = signed_in(app).get(ENROL)
    return key_on(page.get_data(as_text=True)) if page.status_code == 200 else None


def rotate(app):
    return app.test_cli_runner().invoke(args=["mfa", "rotate-key"])


def test_a_secret_is_read_during_the_rotation_moved_by_the_cli_and_kept_after(moments, make_user):
    before, during, after = moments
    make_user()
    key = begin(signed_in(before))

    assert shown_key(during) == key  # the old key decrypts as the fallback
    assert shown_key(after) is None  # the new key alone cannot: not yet re-encrypted

    done = rotate(during)
    assert done.exit_code == 0, done.output
    assert messages.CLI_MFA_ROTATED.format(moved=1, total=1) in done.output
    assert shown_key(after) == key  # re-encrypted: the old key can go
    assert messages.CLI_MFA_ROTATED.format(moved=0, total=1) in rotate(after).output


def test_without_the_cli_the_secret_is_lost_once_the_old_key_goes(moments, make_user):
    before, _during, after = moments
    make_user()
    begin(signed_in(before))
    page = signed_in(after).get(ENROL)
    assert page.status_code == 302  # nothing readable to show: the person starts again
    done = rotate(after)
    assert done.exit_code == 1
    assert messages.CLI_MFA_UNREADABLE.format(count=1) in done.stderr


def test_doctor_reports_secrets_behind_and_unreadable(moments, make_user):
    before, during, after = moments
    make_user()
    begin(signed_in(before))

    def mfa_line(app) -> str:
        output = app.test_cli_runner().invoke(args=["doctor"]).stdout
        return next(line for line in output.splitlines() if " mfa-keys " in line)

    assert mfa_line(during).startswith("ok ") and "run `flask mfa rotate-key`" in mfa_line(during)
    assert mfa_line(after).startswith("FAIL")
    rotate(during)
    assert mfa_line(after).startswith("ok ") and "all under the first" in mfa_line(after)


def test_a_key_that_is_not_a_fernet_key_stops_the_start(make_app):
    with pytest.raises(UnsafeConfiguration, match="MFA_ENCRYPTION_KEYS holds a value"):
        make_app(MFA_ENCRYPTION_KEYS="not-a-fernet-key")


def test_production_refuses_to_start_without_a_key(make_app):
    app = make_app()
    app.config["ENV_NAME"] = "production"
    with pytest.raises(UnsafeConfiguration, match="MFA_ENCRYPTION_KEYS is not set"):
        crypto.init_app(app)
    app.config["MFA_ENCRYPTION_KEYS"] = NEW_KEY
    crypto.init_app(app)


def test_the_keys_are_read_from_a_comma_separated_setting(make_app):
    app = make_app(MFA_ENCRYPTION_KEYS=f" {NEW_KEY},{OLD_KEY} ")
    assert crypto.configured_keys(app.config) == [NEW_KEY, OLD_KEY]


def test_the_runbook_step_reencrypts_as_written(moments, make_user, app):
    before, _during, after = moments
    make_user()
    key = begin(signed_in(before))
    printed = follow(
        "mfa-rotate-key",
        ACS_CONFIG="development",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MFA_ENCRYPTION_KEYS=f"{NEW_KEY},{OLD_KEY}",
    )
    assert messages.CLI_MFA_ROTATED.format(moved=1, total=1) in printed
    assert shown_key(after) == key


def test_sign_in_codes_follow_the_rotation(moments, make_user):
    """A confirmed authenticator: its codes sign in during the rotation, and after it once the
    CLI re-encrypted the key; with the old key dropped too early they are refused."""
    before, during, after = moments
    make_user()
    key, _codes = enrol(signed_in(before))

    def second_step(app, steps: int) -> str:
        client = app.test_client()
        AuthActions(client).login("ada@example.org")
        return send_code(client, code_for(key, steps)).headers.get("Location", "refused")

    assert second_step(during, 0).endswith("/programs")
    assert second_step(after, 1) == "refused"  # not re-encrypted yet: unreadable
    assert rotate(during).exit_code == 0
    assert second_step(after, 1).endswith("/programs")
