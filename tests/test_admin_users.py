"""Admin console: the users list (search, filters, pages) and the account actions."""

from __future__ import annotations

import random
import re
import string
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import (
    ApiKey,
    AuditEvent,
    AuthSession,
    Role,
    User,
    UserProgram,
    utcnow,
)
from acs_auth.models.user import search_key
from acs_auth.services.signin import api_keys, sessions
from acs_auth.services.text.names import name_key
from tests.support.db import read_db
from tests.support.web import csrf_from


def post_form(client, page_url: str, action_url: str, data: dict, **kwargs):
    """POST ``data`` to ``action_url`` with the CSRF token of ``page_url``'s form."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **data}, **kwargs)


def emails_on(response) -> list[str]:
    return re.findall(r'href="/admin/users/\d+">([^<]+)</a>', response.get_data(as_text=True))


def user_row(app, user_id):
    return read_db(app, lambda: db.session.get(User, user_id))


def audit_events(app, event: str) -> list[AuditEvent]:
    return read_db(
        app,
        lambda: db.session.scalars(select(AuditEvent).where(AuditEvent.event == event)).all(),
    )


def test_search_matches_any_part_case_and_accent_insensitively(client, admin, make_user):
    make_user(email="ada@example.org", first_name="Ada", last_name="Lovelace")
    make_user(email="jurgen@example.org", first_name="Jürgen", last_name="Müller-Lüdenscheidt")
    make_user(email="grace@example.org", first_name="Grace", last_name="Hopper")
    make_user(email="zoe@example.org", first_name="Zoë", last_name="Ada-Smith")

    def search(q):
        return emails_on(client.get("/admin/users", query_string={"q": q}))

    assert search("ADA@") == ["ada@example.org"]
    assert search("ada") == ["ada@example.org", "zoe@example.org"]
    assert search("LOVE") == ["ada@example.org"]
    assert search("muller lud") == ["jurgen@example.org"]
    assert search("jurg") == ["jurgen@example.org"]
    assert search("zoe ada") == ["zoe@example.org"]
    assert search("ada love") == ["ada@example.org"]
    assert search("ovelace") == ["ada@example.org"]  # any part, not only the start (issue 16)
    assert search("DENSCH") == ["jurgen@example.org"]
    assert search("mple.or") == [
        "ada@example.org",
        "grace@example.org",
        "jurgen@example.org",
        "root@example.org",
        "zoe@example.org",
    ]
    assert search("nobody") == []
    assert search("%") == [] and search("_") == []  # LIKE wildcards are plain characters


def test_search_finds_usernames_and_counts_matches_without_a_pager_for_one_page(
    app, client, admin, make_user
):
    ada = make_user(email="ada@example.org")

    def name_her():
        user = db.session.get(User, ada)
        user.username, user.username_key = "Enchantress", "enchantress"
        db.session.commit()

    read_db(app, name_her)
    response = client.get("/admin/users", query_string={"q": "CHANT"})
    html = response.get_data(as_text=True)
    assert emails_on(response) == ["ada@example.org"]
    assert messages.ADMIN_USERS_FOUND.format(count=1) in html
    assert 'rel="next"' not in html and 'aria-label="Pages"' not in html
    all_users = client.get("/admin/users").get_data(as_text=True)
    assert messages.ADMIN_USERS_TOTAL.format(count=2) in all_users


def test_filters_by_role_password_locked_and_inactive(app, client, admin, make_user):
    make_user(email="dev@example.org", role=Role.DEVELOPER.value)
    make_user(email="pending@example.org", password=None)
    locked = make_user(email="locked@example.org")
    make_user(email="gone@example.org", active=False)

    def lock():
        db.session.get(User, locked).locked_until = utcnow() + timedelta(minutes=5)
        db.session.commit()

    read_db(app, lock)

    def listed(**query):
        return emails_on(client.get("/admin/users", query_string=query))

    assert listed(role="developer") == ["dev@example.org"]
    assert listed(role="admin") == ["root@example.org"]
    assert listed(password="pending") == ["pending@example.org"]
    assert "pending@example.org" not in listed(password="set")
    assert listed(locked="y") == ["locked@example.org"]
    assert listed(inactive="y") == ["gone@example.org"]
    assert listed(inactive="y", q="gone") == ["gone@example.org"]
    assert listed(inactive="y", q="dev") == []


def test_pages_follow_the_email_order_both_ways(app, client, admin):
    with app.app_context():
        for i in range(119):
            db.session.add(User(email=f"u{i:03d}@example.org", email_key=f"u{i:03d}@example.org"))
        db.session.commit()
    expected = ["root@example.org"] + [f"u{i:03d}@example.org" for i in range(119)]
    seen, url, pages = [], "/admin/users", []
    while url:
        body = client.get(url).get_data(as_text=True)
        pages.append(url)
        seen += emails_on_text(body)
        found = re.search(r'href="([^"]*after=\d+[^"]*)" rel="next"', body)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == expected and len(pages) == 3
    body = client.get(pages[-1]).get_data(as_text=True)
    back = re.search(r'href="([^"]*before=\d+[^"]*)" rel="prev"', body).group(1)
    assert emails_on_text(client.get(back.replace("&amp;", "&")).get_data(True)) == expected[50:100]


def emails_on_text(body: str) -> list[str]:
    return re.findall(r'href="/admin/users/\d+">([^<]+)</a>', body)


def test_bad_list_parameters_are_form_errors_not_failures(client, admin):
    for query in (
        {"q": "x" * 300},
        {"role": "superuser"},
        {"password": "hash-starts-with-$2b"},
        {"after": "abc"},
        {"after": "99999999999999999999"},
        {"before": "-1"},
        {"q": "\x00"},
    ):
        response = client.get("/admin/users", query_string=query)
        assert response.status_code == 200, query
    body = client.get("/admin/users", query_string={"role": "superuser"}).get_data(True)
    assert messages.ADMIN_CHOICE_INVALID in body
    assert messages.FIELD_TOO_LONG in client.get("/admin/users?q=" + "x" * 300).get_data(True)


def test_add_user_creates_it_without_password_and_sends_the_setup_email(app, client, admin, outbox):
    response = post_form(
        client,
        "/admin/users/new",
        "/admin/users/new",
        {
            "email": "New.Person@Example.ORG",
            "first_name": "New",
            "last_name": "Person",
            "role": "developer",
            "programs": "P2; P1 | P1",
        },
    )
    assert response.status_code == 302
    user = read_db(
        app,
        lambda: db.session.scalars(
            select(User).where(User.email_key == "new.person@example.org")
        ).one(),
    )
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert (user.password_hash, user.role, user.source) == (None, "developer", "admin")
    assert read_db(app, lambda: db.session.get(User, user.id).program_ids) == ["P1", "P2"]
    link = outbox.link("New.Person@example.org", "/setup-password/")
    assert client.get(link).status_code == 200
    created = audit_events(app, "user.created")
    assert created[0].actor_label == "root@example.org"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": ""}, messages.FIELD_REQUIRED),
        ({"email": "not an email"}, messages.EMAIL_INVALID),
        ({"email": "root@EXAMPLE.org"}, messages.ADMIN_ACCOUNT_EXISTS),
        ({"email": "a@example.org", "first_name": "x" * 101}, messages.FIELD_TOO_LONG),
        ({"email": "a@example.org", "last_name": "Nul\x00l"}, messages.FIELD_INVALID_CHARACTERS),
        ({"email": "a@example.org", "role": "superuser"}, messages.ADMIN_ROLE_INVALID),
        ({"email": "a@example.org", "programs": "P1; bad id!"}, "is not a valid LO Root ID"),
        ({"email": "a@example.org", "programs": "x" * 30_000}, messages.FIELD_TOO_LONG),
        ({"email": "x" * 300 + "@example.org"}, messages.FIELD_TOO_LONG),
    ],
)
def test_add_user_refuses_bad_input_with_a_form_error(app, client, admin, data, message):
    body = {"role": "user", **data}
    response = post_form(client, "/admin/users/new", "/admin/users/new", body)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    count = read_db(app, lambda: db.session.scalar(select(func.count()).select_from(User)))
    assert count == 1


def test_a_one_megabyte_field_is_refused_cleanly(client, admin):
    token = csrf_from(client.get("/admin/users/new").get_data(as_text=True))
    response = client.post(
        "/admin/users/new",
        data={"csrf_token": token, "email": "a@example.org", "first_name": "x" * 1_000_000},
    )
    assert response.status_code in (400, 413)


def _signed_in_user(app, make_user, login_as, client):
    user_id = make_user(email="ada@example.org", programs=("P1",))
    login_as(user_id, on=client)
    with app.test_request_context():
        user = db.session.get(User, user_id)
        sessions.open_session(user, "api")
        db.session.commit()
        api_keys.create(user, name="script", scope="read")
    return user_id


def _live_credentials(app, user_id) -> tuple[int, int]:
    def count():
        live = db.session.scalar(
            select(func.count()).where(
                AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
            )
        )
        keys = db.session.scalar(
            select(func.count()).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        )
        return live, keys

    return read_db(app, count)


def test_edit_role_programs_and_deactivation(app, client, admin, make_user, login_as):
    other = app.test_client()
    user_id = _signed_in_user(app, make_user, login_as, other)
    assert other.get("/account").status_code == 200
    url = f"/admin/users/{user_id}"
    response = post_form(client, url, url, {"role": "developer", "programs": "P3 P4"})
    assert response.status_code == 302
    user = user_row(app, user_id)
    assert (user.role, user.is_active, user.inactive_reason) == ("developer", False, "admin")
    assert read_db(app, lambda: db.session.get(User, user_id).program_ids) == ["P3", "P4"]
    # Deactivation ends the browser session, API sessions and API keys at once.
    assert _live_credentials(app, user_id) == (0, 0)
    assert other.get("/account").status_code == 302
    event = audit_events(app, "user.updated")[0]
    assert event.details["changes"]["role"] == ["user", "developer"]
    assert event.actor_label == "root@example.org" and event.target_id == user_id
    post_form(client, url, url, {"role": "developer", "programs": "P3 P4", "active": "y"})
    user = user_row(app, user_id)
    assert (user.is_active, user.inactive_reason) == (True, None)
    body = client.get(url).get_data(as_text=True)
    assert "P3; P4" in body


def test_an_admin_cannot_lock_themselves_out(app, client, admin):
    url = f"/admin/users/{admin}"
    response = post_form(client, url, url, {"role": "user", "programs": "", "active": "y"})
    assert response.status_code == 400
    assert messages.ADMIN_SELF_LOCKOUT in response.get_data(as_text=True)
    response = post_form(client, url, url, {"role": "admin", "programs": ""})
    assert response.status_code == 400
    assert user_row(app, admin).role == "admin" and user_row(app, admin).is_active
    delete = f"/admin/users/{admin}/delete"
    response = post_form(client, delete, delete, {"confirm": "y"})
    assert response.status_code == 400
    assert messages.ADMIN_SELF_DELETE in response.get_data(as_text=True)


def test_another_admin_may_be_demoted(app, client, admin, make_user):
    second = make_user(email="second@example.org", role=Role.ADMIN.value)
    url = f"/admin/users/{second}"
    assert post_form(client, url, url, {"role": "user", "active": "y"}).status_code == 302
    assert user_row(app, second).role == "user"


def test_unlock_resend_and_sign_out_everywhere(app, client, admin, make_user, login_as, outbox):
    other = app.test_client()
    user_id = _signed_in_user(app, make_user, login_as, other)

    def lock():
        user = db.session.get(User, user_id)
        user.failed_login_count, user.locked_until = 5, utcnow() + timedelta(minutes=30)
        db.session.commit()

    read_db(app, lock)
    page = f"/admin/users/{user_id}"
    response = post_form(client, page, f"{page}/unlock", {})
    assert response.status_code == 302 and response.headers["Location"] == page
    user = user_row(app, user_id)
    assert (user.failed_login_count, user.locked_until) == (0, None)
    assert messages.ADMIN_USER_UNLOCKED in client.get(page).get_data(as_text=True)

    post_form(client, page, f"{page}/sign-out", {})
    assert _live_credentials(app, user_id) == (0, 0)  # sessions and API keys alike
    assert other.get("/account").status_code == 302

    # This account has a password: no setup email, an explanation instead (the only mail it
    # got is the notice of the API key made above).
    post_form(client, page, f"{page}/resend-setup", {})
    assert messages.ADMIN_SETUP_NOT_NEEDED in client.get(page).get_data(as_text=True)
    subjects = [m["Subject"] for m in outbox.to("ada@example.org")]
    assert subjects == [f"{app.config['APP_NAME']}: A new API key was created"]
    pending = make_user(email="pending@example.org", password=None)
    post_form(client, f"/admin/users/{pending}", f"/admin/users/{pending}/resend-setup", {})
    assert outbox.link("pending@example.org", "/setup-password/")
    names = {e.event for e in read_db(app, lambda: db.session.scalars(select(AuditEvent)).all())}
    assert {"account.unlocked", "session.revoked_all", "password.setup_link_sent"} <= names


def test_delete_asks_for_confirmation_then_removes_everything(
    app, client, admin, make_user, login_as
):
    other = app.test_client()
    user_id = _signed_in_user(app, make_user, login_as, other)
    url = f"/admin/users/{user_id}/delete"
    response = post_form(client, url, url, {})
    assert response.status_code == 400
    assert messages.ADMIN_CONFIRM_REQUIRED in response.get_data(as_text=True)
    assert user_row(app, user_id) is not None
    response = post_form(client, url, url, {"confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert user_row(app, user_id) is None
    assert _live_credentials(app, user_id) == (0, 0)

    def leftovers():
        return db.session.scalar(select(func.count()).where(UserProgram.user_id == user_id))

    assert read_db(app, leftovers) == 0
    deleted = audit_events(app, "user.deleted")[0]
    assert deleted.target_label == "ada@example.org" and deleted.target_id is None
    assert other.get("/account").status_code == 302
    assert client.get(f"/admin/users/{user_id}").status_code == 404


def test_the_detail_page_shows_state_and_recent_events(app, client, admin, make_user):
    user_id = make_user(email="ada@example.org", password=None)
    body = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Password not set" in body and "Resend setup email" in body
    assert "password_hash" not in body and "$2b$" not in body


def test_search_keys_equal_the_name_folding():
    rng = random.Random(5)
    samples = [
        "Müller-Lüdenscheidt",
        "O\u2019Brien",
        "  Ada   Lovelace ",
        "ÆSIR",
        "a`b",
        "\x1cx\x1fy",
    ]
    alphabet = string.ascii_letters + " -`'\t\x1c\x1f" + "éøß"
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(2000)
    ]
    for value in samples:
        assert search_key(value) == (name_key(value)[:100] or None), repr(value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "superuser"}, messages.ADMIN_ROLE_INVALID),
        ({"role": ""}, messages.FIELD_REQUIRED),
        ({"role": "user", "programs": "P1 =cmd()"}, "is not a valid LO Root ID"),
        ({"role": "user", "programs": " ".join(f"P{i}" for i in range(201))}, "at most 200"),
        ({"role": "user", "programs": "p" * 30_000}, messages.FIELD_TOO_LONG),
    ],
)
def test_edit_user_refuses_bad_input_with_a_form_error(
    app, client, admin, make_user, data, message
):
    user_id = make_user(email="ada@example.org", programs=("P1",))
    url = f"/admin/users/{user_id}"
    response = post_form(client, url, url, {"active": "y", **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    user = user_row(app, user_id)
    assert user.role == "user" and user.is_active
    assert read_db(app, lambda: db.session.get(User, user_id).program_ids) == ["P1"]


def test_actions_on_a_missing_account_are_404(client, admin):
    token = csrf_from(client.get("/admin/users/new").get_data(as_text=True))
    for action in ("unlock", "resend-setup", "sign-out", "delete"):
        response = client.post(f"/admin/users/424242/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action
    response = client.post("/admin/users/424242", data={"csrf_token": token, "role": "user"})
    assert response.status_code == 404
    assert client.post("/admin/users/1/unlock").status_code == 400  # no CSRF token
