"""The program catalogue: admin pages, CLI, /api/admin/programs, /programs and the ID checks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_api_support import assert_problem

from acs_auth import messages
from acs_auth.extensions import db
from acs_auth.models import AuditEvent, Program, Role, User
from tests.support.db import read_db
from tests.support.web import csrf_from

pytest_plugins = ("test_api_support",)

CATALOGUE = (
    "lo_root_id,name,description,launch_url,active\n"
    "PROG-1,Algebra,Linear algebra tutor,https://algebra.example/login,true\n"
    "PROG-2,Biology,=cmd|' /C calc'!A0,https://bio.example/,true\n"
)


@pytest.fixture
def catalogue_file(tmp_path):
    path = tmp_path / "programs.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    return path


def add_program(app, lo_root_id="PROG-1", name="Algebra", launch_url=None, active=True):
    with app.app_context():
        db.session.add(
            Program(
                lo_root_id=lo_root_id,
                name=name,
                description=f"About {name}",
                launch_url=launch_url,
                active=active,
            )
        )
        db.session.commit()


def main_of(response) -> str:
    """The page's own content (the site menu is the same on every page)."""
    page = response.get_data(as_text=True)
    return page[page.index('<main id="main"') : page.index("</main>")]


def post_form(client, page_url, action_url, data, **kw):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action_url, data={"csrf_token": token, **data}, **kw)


def test_programs_page_shows_names_descriptions_and_open_buttons(app, auth, client, make_user):
    make_user(programs=("PROG-1", "PROG-2", "PROG-3"))
    add_program(app, "PROG-1", "Algebra", "https://algebra.example/login")
    add_program(app, "PROG-2", "Biology", "https://bio.example/")
    add_program(app, "PROG-3", "Chemistry", "https://chem.example/", active=False)
    auth.login("ada@example.org")
    page = main_of(client.get("/programs"))
    assert "Algebra" in page and "About Algebra" in page and "Biology" in page
    assert 'href="https://algebra.example/login"' in page and 'href="https://bio.example/"' in page
    assert "Chemistry" not in page  # deactivated: not offered
    assert 'href="/programs"' not in page  # no page links to itself


def test_a_single_program_goes_straight_to_its_launch_url(app, auth, client, make_user):
    make_user(programs=("PROG-1",))
    add_program(app, "PROG-1", "Algebra", "https://algebra.example/login")
    auth.login("ada@example.org")
    response = client.get("/programs")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://algebra.example/login"


def test_a_single_program_page_does_not_link_back_to_the_list(app, auth, client, make_user):
    make_user(programs=("PROG-1",))
    auth.login("ada@example.org")
    page = main_of(client.get("/programs/PROG-1"))
    assert 'href="/programs"' not in page


def test_api_programs_returns_the_catalogue_fields(app, api, make_user):
    make_user(programs=("PROG-1", "PROG-9"))
    add_program(app, "PROG-1", "Algebra", "https://algebra.example/login")
    body = api.get("/api/programs", token=api.token()).get_json()
    assert body["programs"] == ["PROG-1", "PROG-9"]
    assert body["items"][0] == {
        "lo_root_id": "PROG-1",
        "name": "Algebra",
        "description": "About Algebra",
        "launch_url": "https://algebra.example/login",
    }
    assert body["items"][1]["name"] == "PROG-9"  # not catalogued: still offered by its ID
    one = api.get("/api/programs/PROG-1", token=api.token()).get_json()
    assert one["name"] == "Algebra" and one["url"] == "https://algebra.example/login"


def test_admin_adds_edits_and_deactivates_a_program(app, client, admin):
    response = post_form(
        client,
        "/admin/programs/new",
        "/admin/programs/new",
        {
            "lo_root_id": "PROG-7",
            "name": "Geometry",
            "launch_url": "https://geo.example/",
            "active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        from acs_auth.oidc import clients

        clients.register("Geo bot", redirect_uris=["https://geo.example/cb"], programs=["PROG-7"])
    page = client.get("/admin/programs").get_data(as_text=True)
    assert "PROG-7" in page and "Geometry" in page and "Geo bot" in page
    post_form(
        client,
        "/admin/programs/PROG-7/edit",
        "/admin/programs/PROG-7/edit",
        {"lo_root_id": "PROG-7", "name": "Geometry II", "launch_url": "", "active": "y"},
    )
    post_form(client, "/admin/programs", "/admin/programs/PROG-7/deactivate", {})
    row = read_db(app, lambda: db.session.get(Program, "PROG-7"))
    assert (row.name, row.launch_url, row.active) == ("Geometry II", None, False)
    events = read_db(
        app,
        lambda: db.session.scalars(
            select(AuditEvent.event).where(AuditEvent.event.like("program.%"))
        ).all(),
    )
    assert sorted(events) == ["program.created", "program.deactivated", "program.updated"]


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "//evil.example/", "https://user@evil.example/", "ftp://x.example/"],
)
def test_a_launch_url_must_be_plain_http_or_https(client, admin, url):
    response = post_form(
        client,
        "/admin/programs/new",
        "/admin/programs/new",
        {"lo_root_id": "PROG-7", "name": "Geometry", "launch_url": url},
    )
    assert response.status_code == 400
    assert messages.PROGRAM_URL_INVALID in response.get_data(as_text=True)


def test_cli_import_export_round_trip(app, runner, catalogue_file, tmp_path):
    result = runner.invoke(args=["programs", "import", str(catalogue_file)])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output
    out = tmp_path / "out.csv"
    assert runner.invoke(args=["programs", "export", str(out)]).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "'=cmd" in text  # a formula cell is neutralised
    again = runner.invoke(args=["programs", "import", str(out)])
    assert "0 added, 0 changed, 2 unchanged" in again.output
    listed = runner.invoke(args=["programs", "list"]).output
    assert "PROG-1\tactive\tAlgebra\thttps://algebra.example/login" in listed


def test_cli_import_with_a_bad_row_applies_nothing(app, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "lo_root_id,name,launch_url\nPROG-1,Algebra,https://a.example/\nbad id!,X,javascript:1\n"
    )
    result = runner.invoke(args=["programs", "import", str(path)])
    assert result.exit_code == 1
    assert "line 3" in result.output
    assert read_db(app, lambda: db.session.scalars(select(Program)).all()) == []


def test_admin_api_manages_the_catalogue(app, api, make_user):
    make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    token = api.token("root@example.org")
    created = api.post(
        "/api/admin/programs",
        token=token,
        json={"lo_root_id": "PROG-5", "name": "Physics", "launch_url": "https://phys.example/"},
    )
    assert created.status_code == 201 and created.get_json()["active"] is True
    assert_problem(
        api.post("/api/admin/programs", token=token, json={"lo_root_id": "PROG-5", "name": "X"}),
        409,
    )
    changed = api.patch("/api/admin/programs/PROG-5", token=token, json={"active": False})
    assert changed.get_json()["active"] is False
    assert_problem(api.patch("/api/admin/programs/NOPE", token=token, json={}), 404)
    bad = api.patch(
        "/api/admin/programs/PROG-5", token=token, json={"launch_url": "javascript:alert(1)"}
    )
    assert_problem(bad, 422)
    listed = api.get("/api/admin/programs", token=token).get_json()["items"]
    assert [p["lo_root_id"] for p in listed] == ["PROG-5"]
    imported = api.post(
        "/api/admin/programs/import",
        token=token,
        data=CATALOGUE.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert imported.get_json()["added"] == ["PROG-1", "PROG-2"]


def test_non_admins_cannot_touch_the_catalogue(api, make_user):
    make_user()
    token = api.token()
    assert_problem(api.get("/api/admin/programs", token=token), 403)
    assert_problem(
        api.post("/api/admin/programs", token=token, json={"lo_root_id": "P", "name": "P"}), 403
    )


def test_allowlist_preview_flags_uncatalogued_ids_but_still_imports(app, api, make_user):
    add_program(app, "PROG-1", "Algebra")
    make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    token = api.token("root@example.org")
    csv = "last_name,email,lo_root_ids\nHopper,grace@example.org,PROG-1;PROG-X\n"
    response = api.post(
        "/api/admin/allowlist?dry_run=true",
        token=token,
        data=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.get_json()["preview"]["uncatalogued"] == ["PROG-X"]
    applied = api.post(
        "/api/admin/allowlist", token=token, data=csv.encode(), headers={"Content-Type": "text/csv"}
    )
    assert applied.status_code == 200 and applied.get_json()["added"] == 1


def test_admin_typed_programs_are_checked_against_a_non_empty_catalogue(
    app, client, admin, make_user
):
    user_id = make_user(programs=("LEGACY",))
    form = {"role": "user", "active": "y"}
    # Empty catalogue: anything well-formed is accepted (deployments without one keep working).
    ok = post_form(
        client,
        f"/admin/users/{user_id}",
        f"/admin/users/{user_id}",
        {**form, "programs": "LEGACY NEW-1"},
    )
    assert ok.status_code == 302
    add_program(app, "PROG-1", "Algebra")
    refused = post_form(
        client,
        f"/admin/users/{user_id}",
        f"/admin/users/{user_id}",
        {**form, "programs": "LEGACY NEW-1 PROG-1 NEW-2"},
    )
    assert refused.status_code == 400
    assert messages.PROGRAMS_UNKNOWN.format(ids="NEW-2") in refused.get_data(as_text=True)
    # IDs the account already holds stay, even when uncatalogued; catalogued ones are accepted.
    kept = post_form(
        client,
        f"/admin/users/{user_id}",
        f"/admin/users/{user_id}",
        {**form, "programs": "LEGACY NEW-1 PROG-1"},
    )
    assert kept.status_code == 302
    user = read_db(app, lambda: db.session.get(User, user_id))
    assert read_db(app, lambda: sorted(db.session.get(User, user_id).program_ids)) == [
        "LEGACY",
        "NEW-1",
        "PROG-1",
    ]
    assert user is not None


def test_admin_api_refuses_uncatalogued_programs(app, api, make_user):
    add_program(app, "PROG-1", "Algebra")
    make_user(email="root@example.org", role=Role.ADMIN.value, programs=())
    user_id = make_user(programs=())
    token = api.token("root@example.org")
    response = api.patch(f"/api/admin/users/{user_id}", token=token, json={"programs": ["PROG-Z"]})
    assert_problem(response, 422)
    response = api.patch(f"/api/admin/users/{user_id}", token=token, json={"programs": ["PROG-1"]})
    assert response.status_code == 200
