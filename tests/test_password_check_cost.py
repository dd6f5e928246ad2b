"""A password check costs a bounded amount of work, whatever the password (issue 12, item 1).

The worst inputs found (bench/bench_password_check.py) go through the API's change-password as
an attacker would send them. The test asserts the policy's answer and the work zxcvbn was
given (how many dictionary scans, over how many characters), never the time: before the
bound, the issue's input made zxcvbn scan the whole 128 characters once per each of 736 l33t
maps, for 5-25 s.
"""

from __future__ import annotations

import pytest
from test_api_support import assert_problem
from zxcvbn import matching

from acs_auth import messages
from acs_auth.services.accounts import password_strength

pytest_plugins = ("test_api_support",)

EMAIL = "ada.lovelace@example.org"
START = "correct horse battery staple 42"
LEET = "!$%(+0123456789<@[{|"
# Two windows, twice (the password and what is left without the person's words), each with
# two dictionary scans, at most MAX_L33T_MAPS l33t scans and the scans of repeated bases.
MAX_SCANS = 64
STRONG = {
    "the issue's l33t run": (LEET * 7)[:128],
    "shuffled l33t, with the person's name": (
        "adaa||4!a4ll@7@1@|!l4taoio0ol11i0i!to!o!771!io!1o014@!0taoi@ii0!taa04!70l0oai4t0i@a"
        "oaa047ia!@l0ll!aooo4@@tl!70oi4@|ia17a|1@t1l@7"
    ),
    "l33t symbols and digits": (
        "ada2{<+6|<{%|!<3[21<[[<7+56@7!%0{$463<|789{9+6($+<13848@7{6[{8325!3|04[{{(1{34({6<%"
        "668+!468($||$735[3@2$4!%(|[$184|3+$556+779@!|"
    ),
    "a long passphrase": (
        "violet umbrella marching sideways under a quiet copper moon while seven otters juggle "
        "lanterns near the old harbour wall at dusk"
    ),
}
WEAK = {
    "a digit sequence": (("0123456789" * 13)[:128], "Sequences like"),
    "one letter": ("a" * 128, "Repeats like"),
    "two letters": ("ab" * 64, ""),
    "a repeated word": ("summer" * 21 + "su", "names"),
}


@pytest.fixture
def scans(monkeypatch):
    """Every dictionary scan zxcvbn runs (l33t and reversed scans included): their lengths."""
    seen: list[int] = []
    scan = matching.dictionary_match

    def counted(password, _ranked_dictionaries=matching.RANKED_DICTIONARIES):
        seen.append(len(password))
        return scan(password, _ranked_dictionaries)

    monkeypatch.setattr(matching, "dictionary_match", counted)
    return seen


@pytest.fixture
def change(api, make_user):
    """change(new) posts to /api/auth/change-password as Ada, keeping track of her password."""
    make_user(email=EMAIL, first_name="Ada", last_name="Lovelace", password=START)
    state = {"password": START, "token": api.token(EMAIL, START)}

    def post(new: str):
        body = {"current_password": state["password"], "new_password": new}
        response = api.post("/api/auth/change-password", token=state["token"], json=body)
        if response.status_code == 200:
            state.update(password=new, token=response.get_json()["access_token"])
        return response

    return post


@pytest.mark.parametrize("name", STRONG)
def test_the_worst_strong_inputs_are_accepted_within_the_bound(api, change, scans, name):
    password = STRONG[name]
    assert len(password) == 128 or name == "a long passphrase"
    response = change(password)
    assert response.status_code == 200, response.get_json()
    assert scans and max(scans) <= password_strength.WINDOW
    assert len(scans) <= MAX_SCANS
    api.login(EMAIL, password)  # the new password is the account's


@pytest.mark.parametrize("name", WEAK)
def test_the_worst_weak_inputs_are_refused_with_the_reason(change, scans, name):
    password, hint = WEAK[name]
    errors = assert_problem(change(password), 422)["errors"]
    assert errors["new_password"][0].startswith(messages.PASSWORD_TOO_WEAK)
    assert hint in errors["new_password"][0]
    assert max(scans) <= password_strength.WINDOW
    assert len(scans) <= MAX_SCANS


def test_the_l33t_table_never_enumerates_more_than_the_cap():
    table = password_strength.l33t_table((LEET * 7)[:128], password_strength.MAX_L33T_MAPS)
    maps = matching.enumerate_l33t_subs(table)
    assert 1 < len(maps) <= password_strength.MAX_L33T_MAPS
    everything = matching.relevant_l33t_subtable(LEET, matching.L33T_TABLE)
    assert len(matching.enumerate_l33t_subs(everything)) == 736  # what zxcvbn would try


@pytest.mark.parametrize(
    "password",
    ["p@ssw0rd1234", "Tr0ub4dor&3xyz", "squ1rr3|w4t3r", "correct horse battery", "1l0v3y0u2024!"],
)
def test_short_passwords_are_scored_exactly_as_zxcvbn_scores_them(password):
    from zxcvbn import zxcvbn

    expected = zxcvbn(password, user_inputs=["ada", "lovelace"])["score"]
    assert password_strength.estimate(password, ["ada", "lovelace"], 5).score == expected
