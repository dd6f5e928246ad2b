"""A person's history on the admin user page names the import that changed their account."""

from __future__ import annotations

import html
import re

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


def test_the_import_history_pages_to_older_and_back_to_newer_imports(app, make_user, login_as):
    root = make_user(email="root@example.org", role=Role.ADMIN.value)
    with app.app_context():
        db.session.add_all(
            AllowlistImport(actor_label="cli", file_name=f"f{i:03d}.csv", sha256="0" * 64)
            for i in range(60)
        )
        db.session.commit()
    browser = app.test_client()
    login_as(root, on=browser)

    def files(body: str) -> list[str]:
        return re.findall(r'<td data-label="File">(f\d{3}\.csv)<br>', body)

    first_page = browser.get("/admin/allowlist/imports").get_data(as_text=True)
    assert files(first_page)[:2] == ["f059.csv", "f058.csv"] and len(files(first_page)) == 50
    assert 'rel="prev"' not in first_page  # the newest page has nothing newer
    older = html.unescape(re.search(r'href="([^"]+)" rel="next">Older', first_page).group(1))
    second_page = browser.get(older).get_data(as_text=True)
    assert files(second_page) == [f"f{i:03d}.csv" for i in range(9, -1, -1)]
    assert 'rel="next"' not in second_page  # the oldest import is on it
    newer = html.unescape(re.search(r'href="([^"]+)" rel="prev">', second_page).group(1))
    assert files(browser.get(newer).get_data(as_text=True)) == files(first_page)
