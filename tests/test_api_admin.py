"""/api/admin (admin role only) and /api/programs through the JSON API."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AllowlistEntry, ApiKey, User, utcnow
from tests.support.config import STRONG_PASSWORD
from tests.support.db import read_db

# The `api` fixture (a client whose answers are checked against the OpenAPI document).
pytest_plugins = ("test_api_support",)

CSV = (
    "last_name,email,lo_root_ids\n"
    "Hopper,grace@example.org,PROG-1;PROG-2\n"
    "Turing,alan@example.org,PROG-3\n"
)


def admin_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/admin"):
            path = rule.rule.replace("<int:user_id>", "1")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


def test_every_admin_route_needs_the_admin_role(app, api, make_user):
    make_user()
    token = api.token()
    routes = list(admin_routes(app))
    assert len(routes) >= 7
    for method, path in routes:
        assert_problem(api.call(method, path), 401)
        assert_problem(api.call(method, path, token=token, json={}), 403, messages.API_ADMIN_ONLY)


def test_stats_counts_accounts_sessions_and_entries(api, admin_token, make_user, make_entry):
    make_user()
    make_entry()
    response = api.get("/api/admin/stats", token=admin_token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["users_total"] == 2 and body["users_active"] == 2
    assert body["entries"] == 1 and body["sessions_active"] == 1
    assert len(body["signins_per_day"]) == 30
    assert body["signins_per_day"][-1]["succeeded"] == 1


def test_users_search_filters_and_pages(api, admin_token, make_user):
    make_user(email="ada@example.org", last_name="Lovelace")
    make_user(email="grace@example.org", last_name="Hopper", first_name="Grace")
    make_user(email="alan@example.org", last_name="Turing", first_name="Alan")
    everyone = api.get("/api/admin/users", token=admin_token).get_json()
    emails = [u["email"] for u in everyone["items"]]
    assert emails == sorted(emails) and len(emails) == 4
    found = api.get("/api/admin/users?q=hop", token=admin_token).get_json()["items"]
    assert [u["email"] for u in found] == ["grace@example.org"]
    assert "password_hash" not in found[0] and found[0]["has_password"] is True
    admins = api.get("/api/admin/users?role=admin", token=admin_token).get_json()["items"]
    assert [u["email"] for u in admins] == ["root@example.org"]
    first = api.get("/api/admin/users?limit=2", token=admin_token).get_json()
    assert len(first["items"]) == 2 and first["next_after"] is not None
    second = api.get(f"/api/admin/users?limit=2&after={first['next_after']}", token=admin_token)
    second = second.get_json()
    assert [u["email"] for u in first["items"] + second["items"]] == emails


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=abc", "limit"),
        ("role=king", "role"),
        ("locked=yes", "locked"),
        ("after=-1", "after"),
        ("q=" + "x" * 300, "q"),
        ("sort=password_hash", "sort"),
    ],
)
def test_users_search_refuses_bad_parameters(api, admin_token, query, field):
    response = api.get(f"/api/admin/users?{query}", token=admin_token)
    assert list(assert_problem(response, 422)["errors"]) == [field]


def test_user_detail_and_missing_users(api, admin_token, make_user):
    user_id = make_user()
    body = api.get(f"/api/admin/users/{user_id}", token=admin_token).get_json()
    assert body["email"] == "ada@example.org" and body["locked"] is False
    for missing in (9999, 2**40):
        response = api.get(f"/api/admin/users/{missing}", token=admin_token)
        assert_problem(response, 404, messages.API_USER_NOT_FOUND)


def test_create_user_queues_the_setup_email(app, api, admin_token, outbox):
    body = {"email": "new@example.org", "role": "developer", "programs": ["PROG-7"]}
    response = api.post("/api/admin/users", token=admin_token, json=body)
    assert response.status_code == 201
    created = response.get_json()
    assert created["role"] == "developer" and created["programs"] == ["PROG-7"]
    assert created["has_password"] is False
    assert outbox.link("new@example.org", "/setup-password/")
    again = api.post("/api/admin/users", token=admin_token, json=body)
    assert_problem(again, 409, messages.ACCOUNT_EXISTS)
    for bad, field in [
        ({"email": "not an email"}, "email"),
        ({"email": "x@example.org", "role": "king"}, "role"),
        ({"email": "x@example.org", "programs": ["bad id!"]}, "programs"),
        ({"email": "x@example.org", "password": "chosen by admin"}, "password"),
    ]:
        problem = assert_problem(api.post("/api/admin/users", token=admin_token, json=bad), 422)
        assert list(problem["errors"]) == [field]


def test_patch_user_changes_role_programs_and_activity(app, api, admin_token, make_user):
    user_id = make_user()
    token = api.token()
    key = api.new_key(token)["key"]
    url = f"/api/admin/users/{user_id}"
    body = {"role": "developer", "programs": ["PROG-2", "PROG-1", "PROG-2"]}
    changed = api.patch(url, token=admin_token, json=body).get_json()
    assert changed["role"] == "developer" and changed["programs"] == ["PROG-1", "PROG-2"]
    assert api.get("/api/programs", token=token).get_json()["programs"] == ["PROG-1", "PROG-2"]
    closed = api.patch(url, token=admin_token, json={"is_active": False}).get_json()
    assert closed["is_active"] is False
    # Deactivation ends the account's tokens and keys at once.
    assert_problem(api.get("/api/auth/me", token=token), 401)
    assert_problem(api.get("/api/auth/me", key=key), 401)
    assert read_db(app, lambda: db.session.scalar(select(ApiKey.revoked_at))) is not None
    reopened = api.patch(url, token=admin_token, json={"is_active": True}).get_json()
    assert reopened["is_active"] is True
    assert_problem(api.get("/api/auth/me", key=key), 401)  # revoked keys stay revoked
    api.login()


def test_patch_user_refuses_self_lockout_and_unknown_fields(app, api, admin_token):
    admin_id = read_db(app, lambda: db.session.scalar(select(User.id)))
    url = f"/api/admin/users/{admin_id}"
    for body in ({"role": "user"}, {"is_active": False}):
        assert_problem(api.patch(url, token=admin_token, json=body), 409)
    for body, field in [
        ({"email": "x@example.org"}, "email"),
        ({"password": "x"}, "password"),
        ({"is_active": "no"}, "is_active"),
        ({"programs": "PROG-1"}, "programs"),
    ]:
        problem = assert_problem(api.patch(url, token=admin_token, json=body), 422)
        assert list(problem["errors"]) == [field]
    assert api.get("/api/admin/stats", token=admin_token).status_code == 200
    assert_problem(api.patch("/api/admin/users/9999", token=admin_token, json={}), 404)


def test_unlock_clears_the_lock(app, api, admin_token, make_user):
    user_id = make_user()

    def lock():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(locked_until=utcnow() + timedelta(minutes=30), failed_login_count=5)
        )
        db.session.commit()

    read_db(app, lock)
    assert api.get(f"/api/admin/users/{user_id}", token=admin_token).get_json()["locked"] is True
    response = api.post(f"/api/admin/users/{user_id}/unlock", token=admin_token)
    assert response.status_code == 200 and response.get_json()["locked"] is False
    api.login(password=STRONG_PASSWORD)
    assert_problem(api.post("/api/admin/users/9999/unlock", token=admin_token), 404)


# --- allowlist upload ---------------------------------------------------------------------------


def entries(app):
    return read_db(
        app,
        lambda: sorted(
            (e.email, e.lo_root_ids, e.active) for e in db.session.scalars(select(AllowlistEntry))
        ),
    )


def upload(api, token, data: str, query: str = "", **kw):
    return api.post(
        f"/api/admin/allowlist{query}",
        token=token,
        data=data.encode(),
        content_type="text/csv",
        **kw,
    )


def test_dry_run_answers_the_preview_and_changes_nothing(app, api, admin_token, make_entry):
    make_entry(email="old@example.org", last_name="Old", programs=("PROG-9",))
    response = upload(api, admin_token, CSV, "?dry_run=true&mode=replace")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["dry_run"], body["applied"]) == (True, False)
    assert (body["added"], body["removed"]) == (2, 1)
    preview = body["preview"]
    assert [r["email"] for r in preview["to_add"]] == ["alan@example.org", "grace@example.org"]
    assert preview["to_add"][1]["lo_root_ids"] == ["PROG-1", "PROG-2"]
    assert preview["to_remove"] == [{"email": "old@example.org", "last_name": "Old"}]
    assert preview["needs_removal_confirmation"] is True
    assert entries(app) == [("old@example.org", "PROG-9", True)]


def test_import_applies_and_reports(app, api, admin_token):
    response = upload(api, admin_token, CSV, "?file_name=list.csv")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["applied"], body["added"], body["errors"]) == (True, 2, [])
    assert "preview" not in body
    assert [e[0] for e in entries(app)] == ["alan@example.org", "grace@example.org"]
    again = upload(api, admin_token, CSV).get_json()
    assert (again["added"], again["changed"], again["unchanged"]) == (0, 0, 2)


def test_multipart_upload_is_accepted(app, api, admin_token):
    response = api.post(
        "/api/admin/allowlist",
        token=admin_token,
        data={"file": (io.BytesIO(CSV.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and response.get_json()["added"] == 2


def test_bad_rows_block_the_import_unless_skipped(app, api, admin_token):
    bad = CSV + "NoEmail,,PROG-1\n"
    response = upload(api, admin_token, bad)
    problem = assert_problem(response, 422, messages.API_ALLOWLIST_INVALID)
    assert problem["lines"][0]["line"] == 4
    assert problem["errors"]["file"][0].startswith("line 4: ")
    assert entries(app) == []
    skipped = upload(api, admin_token, bad, "?skip_invalid=true").get_json()
    assert skipped["applied"] is True and skipped["added"] == 2
    assert [e["line"] for e in skipped["errors"]] == [4]


def test_a_mass_removal_needs_confirmation(app, api, admin_token):
    upload(api, admin_token, CSV)
    only_one = "last_name,email,lo_root_ids\nHopper,grace@example.org,PROG-1;PROG-2\n"
    blocked = upload(api, admin_token, only_one, "?mode=replace")
    assert_problem(blocked, 409)
    assert [e[2] for e in entries(app)] == [True, True]
    done = upload(api, admin_token, only_one, "?mode=replace&confirm_mass_removal=true")
    assert done.get_json()["removed"] == 1
    assert entries(app)[0] == ("alan@example.org", "PROG-3", False)


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        ("", "text/csv", 422),
        ("no,header\n1,2\n", "text/csv", 422),
        (CSV, "application/json", 415),
        (CSV, "application/x-www-form-urlencoded", 415),
    ],
)
def test_unreadable_uploads_are_refused(app, api, admin_token, data, content_type, status):
    response = api.post(
        "/api/admin/allowlist", token=admin_token, data=data.encode(), content_type=content_type
    )
    assert_problem(response, status)
    assert entries(app) == []


def test_upload_options_are_checked(api, admin_token):
    response = upload(api, admin_token, CSV, "?mode=wipe")
    assert list(assert_problem(response, 422)["errors"]) == ["mode"]
    response = upload(api, admin_token, CSV, "?dry_run=maybe")
    assert list(assert_problem(response, 422)["errors"]) == ["dry_run"]


def test_missing_multipart_file_is_refused(app, api, admin_token):
    """The media type is right, so it is the missing field that is named (422), not 415."""
    response = api.post(
        "/api/admin/allowlist",
        token=admin_token,
        data={"other": (io.BytesIO(CSV.encode()), "x.csv")},
        content_type="multipart/form-data",
    )
    problem = assert_problem(response, 422)
    assert problem["errors"] == {"file": [messages.API_CSV_FILE_MISSING]}
    assert entries(app) == []


@pytest.mark.parametrize(
    "query, errors",
    [
        ("after=2147483646", None),  # ten digits, inside the documented range
        ("after=1&before=2147483647", None),
        ("after=2147483648", "after"),
        ("before=-1", "before"),
        ("limit=0", "limit"),
        ("after=" + "9" * 40, "after"),
    ],
)
def test_user_page_cursors_take_the_whole_documented_range(api, admin_token, query, errors):
    response = api.get(f"/api/admin/users?{query}", token=admin_token)
    if errors is None:
        assert response.status_code == 200, response.get_json()
        return
    problem = assert_problem(response, 422)
    assert list(problem["errors"]) == [errors]
    assert problem["errors"][errors] != [messages.API_FIELD_TYPE.format(kind="an integer")]


def test_a_query_integer_that_is_not_one_is_named_as_such(api, admin_token):
    for value in ("ten", "1.5", "1e3", "", "9" * 5000):
        response = api.get(f"/api/admin/users?after={value}", token=admin_token)
        errors = assert_problem(response, 422)["errors"]
        assert errors == {"after": [messages.API_FIELD_TYPE.format(kind="an integer")]}, value


# --- programs -----------------------------------------------------------------------------------


def test_programs_are_the_callers_and_others_are_forbidden(api, make_user):
    make_user(programs=("PROG-1", "PROG-2"))
    make_user(email="grace@example.org", programs=("PROG-3",))
    token = api.token()
    assert api.get("/api/programs", token=token).get_json()["programs"] == ["PROG-1", "PROG-2"]
    own = api.get("/api/programs/PROG-2", token=token)
    assert own.status_code == 200 and own.get_json()["authorized"] is True
    for other in ("PROG-3", "UNKNOWN", "x" * 300):
        assert_problem(
            api.get(f"/api/programs/{other}", token=token), 403, messages.PROGRAM_FORBIDDEN
        )
    assert_problem(api.get("/api/programs"), 401)


def test_admins_see_every_program(api, admin_token, make_user, make_entry):
    make_user(programs=("PROG-1",))
    make_entry(programs=("PROG-4",))
    listed = api.get("/api/programs", token=admin_token).get_json()["programs"]
    assert listed == ["PROG-1", "PROG-4"]
    assert api.get("/api/programs/PROG-4", token=admin_token).status_code == 200
    assert_problem(api.get("/api/programs/PROG-404", token=admin_token), 403)


def test_stats_count_matches_the_database(app, api, admin_token, make_user):
    for n in range(3):
        make_user(email=f"user{n}@example.org")
    body = api.get("/api/admin/stats", token=admin_token).get_json()
    total = read_db(app, lambda: db.session.scalar(select(func.count()).select_from(User)))
    assert body["users_total"] == total == 4
