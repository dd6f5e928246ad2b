"""`flask users create-admin | create | unlock`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, User, utcnow
from acs_auth.services.signin import seam
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db

PASSWORD_LINE = re.compile(re.escape(messages.CLI_PASSWORD_ONCE.split("{")[0]) + r"(\S+)")


def printed_password(output: str) -> str:
    found = PASSWORD_LINE.findall(output)
    assert len(found) == 1, output
    return found[0]


def signs_in(app, email: str, password: str) -> bool:
    with app.test_request_context():
        try:
            return seam.sign_in(email, password, seam.Channel.BROWSER).signed_in is not None
        finally:
            db.session.remove()


def user_row(app, email: str) -> User | None:
    return read_db(app, lambda: db.session.scalar(select(User).where(User.email_key == email)))


def user_count(app) -> int:
    return read_db(app, lambda: db.session.scalar(select(func.count()).select_from(User)))


# --- create-admin -------------------------------------------------------------------------


def test_create_admin_prints_a_generated_password_that_signs_in(app, runner):
    result = runner.invoke(args=["users", "create-admin", "--email", "Boss@Example.ORG"])
    assert result.exit_code == 0, result.output
    assert messages.CLI_ADMIN_CREATED.format(email="Boss@example.org") in result.output
    password = printed_password(result.output)
    assert len(password) >= 20
    user = user_row(app, "boss@example.org")
    assert user.role == "admin"
    assert user.password_hash and password not in user.password_hash
    assert signs_in(app, "boss@example.org", password)
    assert not signs_in(app, "boss@example.org", password + "x")


def test_every_generated_password_is_different(app, runner):
    first = runner.invoke(args=["users", "create-admin", "--email", "one@example.org"])
    second = runner.invoke(args=["users", "create-admin", "--email", "two@example.org"])
    assert printed_password(first.output) != printed_password(second.output)


def test_no_account_ever_has_a_default_password(app, runner):
    runner.invoke(args=["users", "create-admin", "--email", "boss@example.org"])
    for guess in ("admin", "password", "changeme", "admin123", "", STRONG_PASSWORD):
        assert not signs_in(app, "boss@example.org", guess)


def test_create_admin_refuses_an_existing_email_with_exit_code_1(app, runner, make_user):
    make_user(email="taken@example.org")
    result = runner.invoke(args=["users", "create-admin", "--email", "TAKEN@example.org"])
    assert result.exit_code == 1
    assert messages.CLI_ACCOUNT_EXISTS.format(email="TAKEN@example.org") in result.output
    assert not PASSWORD_LINE.search(result.output)
    assert user_row(app, "taken@example.org").role == "user"  # untouched
    assert user_count(app) == 1


def test_create_admin_twice_refuses_the_second(app, runner):
    assert runner.invoke(args=["users", "create-admin", "--email", "a@example.org"]).exit_code == 0
    result = runner.invoke(args=["users", "create-admin", "--email", "a@example.org"])
    assert result.exit_code == 1
    assert user_count(app) == 1


@pytest.mark.parametrize(
    "email", ["not-an-email", "", "a@", "x" * 1_000_000 + "@example.org", "a b@example.org"]
)
def test_create_admin_rejects_a_malformed_email(app, runner, email):
    result = runner.invoke(args=["users", "create-admin", "--email", email])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # a usage error, not a traceback
    assert user_count(app) == 0


def test_create_admin_with_prompt_uses_the_typed_password(app, runner):
    typed = "plum orchard kettle 2087 zebra"
    result = runner.invoke(
        args=["users", "create-admin", "--email", "boss@example.org", "--password-prompt"],
        input=f"{typed}\n{typed}\n",
    )
    assert result.exit_code == 0, result.output
    assert typed not in result.output  # hidden input, never echoed or printed
    assert not PASSWORD_LINE.search(result.output)
    assert signs_in(app, "boss@example.org", typed)


def test_create_admin_prompt_enforces_the_policy_and_asks_again(app, runner):
    typed = "plum orchard kettle 2087 zebra"
    result = runner.invoke(
        args=["users", "create-admin", "--email", "boss@example.org", "--password-prompt"],
        input=f"short\npassword1234\n{typed}\n{typed}\n",
    )
    assert result.exit_code == 0, result.output
    assert messages.PASSWORD_TOO_SHORT.format(n=12) in result.output
    assert messages.PASSWORD_TOO_WEAK in result.output
    assert signs_in(app, "boss@example.org", typed)


def test_create_admin_prompt_with_mismatch_and_no_more_input_creates_nothing(app, runner):
    result = runner.invoke(
        args=["users", "create-admin", "--email", "boss@example.org", "--password-prompt"],
        input="plum orchard kettle 2087 zebra\nsomething else entirely 99\n",
    )
    assert result.exit_code == 1
    assert user_count(app) == 0


def test_create_admin_is_audited(app, runner):
    runner.invoke(args=["users", "create-admin", "--email", "boss@example.org"])
    events = read_db(app, lambda: db.session.scalars(select(AuditEvent.event)).all())
    assert "user.created" in events


# --- create -----------------------------------------------------------------------------------


def test_create_user_sends_the_setup_email(app, runner, outbox):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Grace@Example.org",
            "--role",
            "developer",
            "--first-name",
            "Grace",
            "--last-name",
            "Hopper",
            "--program",
            "PROG-1",
            "--program",
            "PROG-2",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "grace@example.org".lower() in result.output.lower()
    user = user_row(app, "grace@example.org")
    assert user.role == "developer"
    assert user.password_hash is None  # no password until the person sets one
    assert read_db(app, lambda: db.session.get(User, user.id).program_ids) == ["PROG-1", "PROG-2"]
    link = outbox.link("grace@example.org", "/setup-password/")
    assert client_can_open(app, link)


def client_can_open(app, path: str) -> bool:
    return app.test_client().get(path).status_code == 200


@pytest.mark.parametrize("app_overrides", [{"MAIL_DELIVERY": "background"}])
def test_create_user_delivers_at_once_when_no_worker_is_configured(app, runner, smtp):
    result = runner.invoke(args=["users", "create", "--email", "ada@example.org"])
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in smtp.messages] == ["ada@example.org"]


def test_create_user_refuses_an_existing_email(app, runner, make_user, outbox):
    make_user(email="ada@example.org")
    result = runner.invoke(args=["users", "create", "--email", "ADA@example.org"])
    assert result.exit_code == 1
    assert messages.CLI_ACCOUNT_EXISTS.format(email="ADA@example.org") in result.output
    assert outbox.to("ada@example.org") == []


@pytest.mark.parametrize(
    "extra",
    [
        ["--role", "superuser"],
        ["--program", "bad id with spaces"],
        ["--program", "P" * 65],
        ["--first-name", "x" * 101],
        ["--last-name", "y" * 1_000_000],
    ],
    ids=["role", "program-spaces", "program-long", "first-name-long", "last-name-1MB"],
)
def test_create_user_rejects_bad_options_without_creating(app, runner, extra):
    result = runner.invoke(args=["users", "create", "--email", "ada@example.org", *extra])
    assert result.exit_code == 2
    assert user_count(app) == 0


# --- unlock -----------------------------------------------------------------------------------


def lock(app, user_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        user.failed_login_count = 5
        user.locked_until = utcnow() + timedelta(minutes=30)
        db.session.commit()


def test_unlock_clears_a_lock(app, runner, make_user):
    user_id = make_user(email="ada@example.org")
    lock(app, user_id)
    assert not signs_in(app, "ada@example.org", STRONG_PASSWORD)
    result = runner.invoke(args=["users", "unlock", "ADA@example.org"])
    assert result.exit_code == 0, result.output
    row = read_db(app, lambda: db.session.get(User, user_id))
    assert row.failed_login_count == 0
    assert row.locked_until is None
    assert signs_in(app, "ada@example.org", STRONG_PASSWORD)


@pytest.mark.parametrize("email", ["nobody@example.org", "", "x" * 100_000])
def test_unlock_of_an_unknown_account_exits_1(app, runner, email):
    result = runner.invoke(args=["users", "unlock", email])
    assert result.exit_code == 1
    assert "No account" in result.output
