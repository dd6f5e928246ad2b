"""Two gunicorn instances x two workers: revocation is seen by all, races have one winner."""

from __future__ import annotations

import pytest
import requests

from acs_auth import messages
from tests.support.e2e import (
    STRONG_PASSWORD,
    api_login,
    bearer,
    browser_login,
    csrf_from,
    get_csrf,
    in_parallel,
    new_session,
    submit,
    unique_email,
)

pytestmark = pytest.mark.slow

PARALLEL = 20


def signed_in(session: requests.Session, instance) -> bool:
    response = session.get(instance.url + "/account", timeout=15, allow_redirects=False)
    if response.status_code == 200:
        return True
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].startswith("/login")
    return False


def copy_of(session: requests.Session, only: str | None = None) -> requests.Session:
    """Another client holding the same cookies (all of them, or only the one named)."""
    twin = new_session()
    for cookie in session.cookies:
        if only is None or cookie.name == only:
            twin.cookies.set_cookie(cookie)
    return twin


def me(instance, token: str) -> int:
    return requests.get(
        instance.url + "/api/auth/me", headers=bearer(token), timeout=15
    ).status_code


def refresh(instance, token: str) -> requests.Response:
    return requests.post(
        instance.url + "/api/auth/refresh", json={"refresh_token": token}, timeout=30
    )


def test_a_browser_session_ended_on_one_instance_is_refused_by_the_other(deployment, portals):
    a, b = portals
    email = unique_email("browser")
    deployment.make_user(email)
    browser = new_session("browser one")
    assert browser_login(browser, a.url, email, STRONG_PASSWORD, remember="y").status_code == 302
    assert {c.name for c in browser.cookies} >= {"acs_session", "acs_remember"}
    assert signed_in(browser, b)
    stolen = copy_of(browser)
    remembered = copy_of(browser, only="acs_remember")
    assert signed_in(remembered, b), "the remember-me cookie alone signs in on the other instance"
    laptop = new_session("browser two")
    assert browser_login(laptop, b.url, email, STRONG_PASSWORD).status_code == 302

    response = submit(browser, a.url, "/logout", {}, form_path="/account")
    assert response.status_code == 302

    for holder in (stolen, remembered):
        for instance in portals:
            assert not signed_in(holder, instance)
    assert signed_in(laptop, a), "only the session that signed out has ended"


def test_a_session_back_from_a_break_works_and_its_sign_out_ends_it(deployment, portals):
    """After a few idle minutes (the loader then records the activity) nothing changes."""
    a, b = portals
    email = unique_email("idle")
    deployment.make_user(email)
    browser = new_session()
    assert browser_login(browser, a.url, email, STRONG_PASSWORD, remember="y").status_code == 302
    stolen = copy_of(browser)
    deployment.idle_sessions(email, minutes=5)
    assert signed_in(browser, b), "an idle session must open the account page, not fail"
    page = browser.get(b.url + "/programs", timeout=15)
    assert page.status_code == 200
    deployment.idle_sessions(email, minutes=5)
    response = browser.post(
        a.url + "/logout",
        data={"csrf_token": csrf_from(page.text)},
        timeout=15,
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert all(row["revoked_at"] is not None for row in deployment.sessions(email))
    assert not signed_in(stolen, b), "sign-out must end the session on the server"


def test_sign_out_everywhere_on_one_instance_ends_sessions_made_on_the_other(deployment, portals):
    a, b = portals
    email = unique_email("everywhere")
    user_id = deployment.make_user(email)
    admin_email = unique_email("admin")
    admin = new_session("admin")
    admin_password = deployment.create_admin(admin_email)
    assert browser_login(admin, b.url, admin_email, admin_password).status_code == 302
    browser = new_session()
    assert browser_login(browser, a.url, email, STRONG_PASSWORD, remember="y").status_code == 302
    pair = api_login(a.url, email).json()
    assert me(b, pair["access_token"]) == 200

    path = f"/admin/users/{user_id}/sign-out"
    response = submit(admin, b.url, path, {}, form_path=f"/admin/users/{user_id}")
    assert response.status_code == 302

    assert not signed_in(browser, a) and not signed_in(copy_of(browser, "acs_remember"), b)
    assert me(a, pair["access_token"]) == 401
    assert refresh(a, pair["refresh_token"]).status_code == 401


def test_an_api_session_ended_on_one_instance_is_refused_by_the_other(deployment, portals):
    a, b = portals
    email = unique_email("api")
    deployment.make_user(email)
    first = api_login(a.url, email).json()
    second = api_login(b.url, email).json()
    assert me(b, first["access_token"]) == 200

    response = requests.post(
        a.url + "/api/auth/logout", headers=bearer(first["access_token"]), timeout=15
    )
    assert response.status_code == 204
    assert me(b, first["access_token"]) == 401
    assert me(a, first["access_token"]) == 401
    assert refresh(b, first["refresh_token"]).status_code == 401
    assert me(a, second["access_token"]) == 200, "the other API session is untouched"


def test_twenty_parallel_resets_with_one_link_give_exactly_one_success(deployment, portals):
    email = unique_email("reset")
    deployment.make_user(email)
    response = requests.post(
        portals[0].url + "/api/auth/request-password-reset", json={"email": email}, timeout=15
    )
    assert response.status_code == 202
    link = deployment.mail.link(email, "/reset-password/")
    token = link.rsplit("/", 1)[1]

    def prepare(i):
        instance = portals[i % 2]
        if i % 4 < 2:  # the browser form: GET it first (GET never consumes the link)
            session = new_session()
            return instance, session, get_csrf(session, instance.url + link)
        return instance, None, None

    def fire(i, prepared):
        instance, session, csrf = prepared
        password = f"parallel winner number {i} of twenty"
        if session is not None:
            answer = session.post(
                instance.url + link,
                data={"csrf_token": csrf, "password": password, "confirm": password},
                timeout=60,
                allow_redirects=False,
            )
            won = answer.status_code == 302 and answer.headers["Location"] == "/login"
            lost = answer.status_code == 400 and messages.LINK_INVALID in answer.text
        else:
            answer = requests.post(
                instance.url + "/api/auth/reset-password",
                json={"token": token, "password": password},
                timeout=60,
            )
            won = answer.status_code == 204
            lost = answer.status_code == 422 and "token" in answer.json().get("errors", {})
        assert won or lost, (i, answer.status_code, answer.text[:300])
        return i, won

    results = in_parallel(PARALLEL, prepare, fire)
    winners = [i for i, won in results if won]
    assert len(winners) == 1, results
    winner = winners[0]
    for i in (winner, (winner + 1) % PARALLEL):
        status = api_login(portals[1].url, email, f"parallel winner number {i} of twenty")
        assert (status.status_code == 200) == (i == winner)
    assert api_login(portals[0].url, email, STRONG_PASSWORD).status_code == 401


def test_twenty_parallel_registrations_of_one_email_give_exactly_one_account(deployment, portals):
    email = unique_email("register")
    deployment.make_entry(email, "Hopper")
    response = requests.post(
        portals[1].url + "/api/auth/register",
        json={"email": email, "last_name": "Hopper"},
        timeout=15,
    )
    assert response.status_code == 202
    link = deployment.mail.link(email, "/register/password/")

    def prepare(i):
        session = new_session()
        return portals[i % 2], session, get_csrf(session, portals[i % 2].url + link)

    def fire(i, prepared):
        instance, session, csrf = prepared
        password = f"registration racer {i} of twenty"
        answer = session.post(
            instance.url + link,
            data={"csrf_token": csrf, "password": password, "confirm": password},
            timeout=60,
            allow_redirects=False,
        )
        location = answer.headers.get("Location", "")
        won = answer.status_code == 302 and location == "/programs"
        # The others: "you already have an account" (to sign-in) or the link is spent.
        lost = (answer.status_code == 302 and location.startswith("/login")) or (
            answer.status_code == 400 and messages.LINK_INVALID in answer.text
        )
        assert won or lost, (i, answer.status_code, location, answer.text[:300])
        return won

    results = in_parallel(PARALLEL, prepare, fire)
    assert results.count(True) == 1, results
    assert deployment.count_users(email) == 1
    assert deployment.user(email)["programs"] == ["PROG-1", "PROG-2"]


@pytest.fixture(scope="module")
def direct_portals(deployment, portals):
    """Two more instances with REGISTRATION_EMAIL_CONFIRMATION=false (accounts made at once)."""
    extra = {"REGISTRATION_EMAIL_CONFIRMATION": "false"}
    return deployment.start(workers=2, **extra), deployment.start(workers=2, **extra)


def test_twenty_parallel_direct_api_registrations_give_exactly_one_account(
    deployment, direct_portals
):
    email = unique_email("direct")
    deployment.make_entry(email, "Hopper")

    def fire(i, instance):
        answer = requests.post(
            instance.url + "/api/auth/register",
            json={"email": email, "last_name": "Hopper", "password": f"direct racer {i} of 20"},
            timeout=60,
        )
        assert answer.status_code in (201, 409), (i, answer.status_code, answer.text[:300])
        return answer.status_code

    results = in_parallel(PARALLEL, lambda i: direct_portals[i % 2], fire)
    assert results.count(201) == 1, results
    assert deployment.count_users(email) == 1


def test_twenty_parallel_refreshes_give_at_most_one_live_successor(deployment, portals):
    email = unique_email("refresh")
    deployment.make_user(email)
    pair = api_login(portals[0].url, email).json()
    generation = deployment.sessions(email)[-1]["refresh_generation"]

    results = in_parallel(
        PARALLEL,
        lambda i: portals[i % 2],
        lambda i, instance: refresh(instance, pair["refresh_token"]),
    )
    assert all(r.status_code in (200, 401) for r in results), [r.status_code for r in results]
    successors = [r.json() for r in results if r.status_code == 200]
    assert len(successors) <= 1, len(successors)
    row = deployment.sessions(email)[-1]
    assert row["refresh_generation"] <= generation + 1

    # Probe the successors: whatever the interleaving, at most one still works.
    live = [s for s in successors if me(portals[1], s["access_token"]) == 200]
    assert len(live) <= 1
    if live:
        assert row["revoked_at"] is None
        assert refresh(portals[1], live[0]["refresh_token"]).status_code == 200
    # The original token is spent for good (and showing it again ends the session).
    assert refresh(portals[0], pair["refresh_token"]).status_code == 401
    assert deployment.sessions(email)[-1]["revoked_at"] is not None


def test_the_other_instance_sees_a_new_password_at_once(deployment, portals):
    """A password changed through one instance is the only one the other accepts."""
    a, b = portals
    email = unique_email("change")
    deployment.make_user(email)
    browser = new_session()
    assert browser_login(browser, a.url, email, STRONG_PASSWORD).status_code == 302
    page = browser.get(a.url + "/account", timeout=15).text
    response = browser.post(
        a.url + "/account/password",
        data={
            "csrf_token": csrf_from(page),
            "current_password": STRONG_PASSWORD,
            "new_password": "a brand new passphrase 77",
            "confirm_password": "a brand new passphrase 77",
        },
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302
    assert api_login(b.url, email, STRONG_PASSWORD).status_code == 401
    assert api_login(b.url, email, "a brand new passphrase 77").status_code == 200
    assert signed_in(browser, b), "the device that changed the password stays signed in"
