"""A person's history on the admin user page names the import that changed their account."""

from __future__ import annotations

from sqlalchemy import select

from acs_auth.extensions import db
from acs_auth.models import AllowlistImport, Role
from tests.support.db import read_db

pytest_plugins = ("test_api_support",)


def upload(api, token, csv: str, mode: str = "merge", name: str = "people.csv"):
    response = api.post(
        "/api/admin/allowlist",
        token=token,
        query_string={"mode": mode, "file_name": name, "confirm_mass_removal": "true"},
        data=csv.encode(),
        content_type="text/csv",
    )
    assert response.status_code == 200, response.get_json()
    return response


def test_the_user_page_says_which_import_changed_programs_and_status(app, api, make_user, login_as):
    root = make_user(email="root@example.org", role=Role.ADMIN.value)
    token = api.token("root@example.org")
    ada = make_user(email="ada@example.org", programs=("PROG-1",))
    header = "last_name,email,lo_root_ids\n"
    upload(api, token, header + "Lovelace,ada@example.org,PROG-1;PROG-2\n", name="spring.csv")
    upload(api, token, header + "Root,root@example.org,PROG-9\n", mode="replace", name="summer.csv")
    imports = read_db(
        app,
        lambda: dict(
            db.session.execute(select(AllowlistImport.file_name, AllowlistImport.id)).all()
        ),
    )

    browser = app.test_client()
    login_as(root, on=browser)
    html = browser.get(f"/admin/users/{ada}").get_data(as_text=True)
    assert "programs: PROG-1 → PROG-1, PROG-2" in html
    assert f"import id: {imports['spring.csv']}" in html and "import file: spring.csv" in html
    assert "account.deactivated" in html
    assert f"import id: {imports['summer.csv']}" in html and "import file: summer.csv" in html
