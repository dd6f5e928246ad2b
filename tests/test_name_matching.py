"""Last names match as people type them, over HTTP: transliterations and compound surnames.

The typed last name is a filter in front of the real proof (the link emailed to the stored
address), so each case checks what arrives in the stored mailbox, and that the page answers
the same whether or not the name matched.
"""

from __future__ import annotations

import pytest
from test_password_setup import ask_setup
from test_registration import post_form, register, text

from acs_auth import messages

REGISTRATION_SUBJECT = "Finish your registration"
SETUP_SUBJECT = "Set up your password"


def subjects_to(outbox, address: str) -> list[str]:
    """The subjects of every message delivered to ``address`` so far."""
    outbox.deliver()
    return [m["Subject"] for m in outbox.to(address)]


MATCHES = [
    ("Müller", "Mueller"),
    ("Mueller", "Müller"),
    ("Müller", "MULLER"),
    ("Schröder", "Schroeder"),
    ("Bär", "Baer"),
    ("Strauß", "Strauss"),
    ("Strauss", "Strauß"),
    ("García Márquez", "Garcia"),
    ("García Márquez", "marquez"),
    ("García Márquez", "  garcia   MARQUEZ "),
    ("Smith-Jones", "Smith"),
    ("Smith-Jones", "Jones"),
    ("Smith-Jones", "Smith Jones"),
    ("de la Cruz", "Cruz"),
    ("Öztürk-Müller", "Oeztuerk"),
]
MISMATCHES = [
    ("García Márquez", "Garc"),  # a fragment of a part, not a part in full
    ("García Márquez", "Garcia Lopez"),
    ("Smith-Jones", "Smith-Jonesy"),
    ("Smith-Jones", "mith"),
    ("de la Cruz", "de"),  # a particle alone is not a surname
    ("Müller", "Mieller"),
    ("Garcia", "García Márquez"),  # more than the list holds
]


@pytest.mark.parametrize(("stored", "typed"), MATCHES)
def test_registration_link_arrives_for_a_variant_spelling(
    client, outbox, make_entry, stored, typed
):
    make_entry(email="person@example.org", last_name=stored)

    response = register(client, typed, "person@example.org")

    assert response.status_code == 200
    assert messages.REGISTRATION_EMAIL_SENT in text(response)
    assert any(REGISTRATION_SUBJECT in s for s in subjects_to(outbox, "person@example.org"))
    assert outbox.link("person@example.org", "/register/password/")


@pytest.mark.parametrize(("stored", "typed"), MISMATCHES)
def test_no_registration_link_for_a_name_that_does_not_match(
    app, client, outbox, make_entry, stored, typed
):
    make_entry(email="person@example.org", last_name=stored)
    matched = register(app.test_client(), stored, "other@example.org")

    response = register(client, typed, "person@example.org")

    assert response.status_code == 200
    assert text(response) == text(matched)  # the page never tells
    assert not any(REGISTRATION_SUBJECT in s for s in subjects_to(outbox, "person@example.org"))


def test_the_link_from_a_variant_spelling_creates_the_account(client, outbox, make_entry):
    make_entry(email="person@example.org", last_name="García Márquez", programs=("P1",))
    register(client, "Garcia", "person@example.org")
    link = outbox.link("person@example.org", "/register/password/")

    password = "violet marmalade tugboat 1923"
    done = post_form(client, link, {"password": password, "confirm": password})

    assert done.status_code == 302
    assert done.headers["Location"].startswith("/programs")


@pytest.mark.parametrize("app_overrides", [{"REGISTRATION_EMAIL_CONFIRMATION": False}])
def test_in_session_registration_accepts_a_transliteration(app, client, make_entry):
    make_entry(email="person@example.org", last_name="Müller")

    wrong = register(app.test_client(), "Mül", "person@example.org")
    right = register(client, "Mueller", "person@example.org")

    assert wrong.status_code == 200 and messages.REGISTRATION_NOT_FOUND in text(wrong)
    assert right.status_code == 302
    assert right.headers["Location"] == "/register/password"


@pytest.mark.parametrize(("stored", "typed"), [("Müller", "Mueller"), ("Smith-Jones", "Jones")])
def test_first_time_setup_link_arrives_for_a_variant_spelling(
    client, outbox, make_user, stored, typed
):
    make_user(email="person@example.org", password=None, last_name=stored)

    response = ask_setup(client, typed, "person@example.org")

    assert response.status_code == 200
    assert outbox.link("person@example.org", "/setup-password/")


@pytest.mark.parametrize(("stored", "typed"), [("Müller", "Mull"), ("Smith-Jones", "Smi")])
def test_first_time_setup_refuses_a_fragment(client, outbox, make_user, stored, typed):
    make_user(email="person@example.org", password=None, last_name=stored)

    response = ask_setup(client, typed, "person@example.org")

    assert response.status_code == 200
    assert not any(SETUP_SUBJECT in s for s in subjects_to(outbox, "person@example.org"))
