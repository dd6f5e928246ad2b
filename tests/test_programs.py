"""Program selection: the user's LO Root IDs, the program page, 403 for the others."""

from __future__ import annotations

import pytest

from acs_auth import messages
from acs_auth.models import Role


def test_programs_list_the_users_programs(auth, client, make_user, make_entry):
    make_user(programs=("PROG-2", "PROG-1"))
    make_entry(programs=("PROG-9",))
    auth.login("ada@example.org")
    page = client.get("/programs").get_data(as_text=True)
    assert page.index("/programs/PROG-1") < page.index("/programs/PROG-2")
    assert "PROG-9" not in page


def test_no_programs_says_so(auth, client, make_user):
    make_user(programs=())
    auth.login("ada@example.org")
    response = client.get("/programs")
    assert response.status_code == 200
    assert messages.NO_PROGRAMS in response.get_data(as_text=True)


def test_a_program_the_user_lacks_answers_403(auth, client, make_user):
    make_user(programs=("PROG-1", "PROG-2"))
    auth.login("ada@example.org")
    assert client.get("/programs/PROG-2").status_code == 200
    for other in ("PROG-3", "prog-1", "PROG-1/../PROG-3", "x" * 5000):
        response = client.get(f"/programs/{other}")
        assert response.status_code == 403, other
        assert messages.PROGRAM_FORBIDDEN in response.get_data(as_text=True)


def test_admins_see_every_known_program(auth, client, make_user, make_entry):
    make_user("grace@example.org", programs=("PROG-7",), last_name="Hopper")
    make_entry("linus@example.org", last_name="T", programs=("PROG-8",))
    make_user("root@example.org", role=Role.ADMIN.value, programs=())
    auth.login("root@example.org")
    page = client.get("/programs").get_data(as_text=True)
    assert "/programs/PROG-7" in page and "/programs/PROG-8" in page
    assert client.get("/programs/PROG-7").status_code == 200
    assert client.get("/programs/PROG-8").status_code == 200
    assert client.get("/programs/NOT-A-PROGRAM").status_code == 403


@pytest.mark.parametrize(
    "app_overrides", [{"PROGRAM_URL_TEMPLATE": "https://chat.example/{program_id}"}]
)
def test_program_page_links_to_the_chatbot(auth, client, make_user):
    make_user(programs=("PROG 1/x",))
    auth.login("ada@example.org")
    response = client.get("/programs", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/programs/PROG 1/x"
    assert "<h1>PROG 1/x</h1>" in page
    assert 'href="https://chat.example/PROG%201%2Fx"' in page


def test_without_a_chatbot_url_the_page_still_opens(auth, client, make_user):
    make_user()
    auth.login("ada@example.org")
    page = client.get("/programs/PROG-1").get_data(as_text=True)
    assert "<h1>PROG-1</h1>" in page
    assert "https://" not in page


@pytest.mark.parametrize("url", ["/programs", "/programs/PROG-1"])
def test_programs_need_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
