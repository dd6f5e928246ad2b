"""zxcvbn's strength estimate at a bounded cost, whatever the password (issue 12, item 1).

zxcvbn 4.5.0's cost grows with the password in ways an attacker controls: each dictionary
scan looks at all O(n²) substrings and its scoring walks every match (``"ab" * 64`` takes about
a second), and its l33t matcher rescans the password once per substitution map, and the maps
multiply with each distinct l33t character (``!$%(+0123456789<@[{|`` repeated to 128
characters: 736 maps, 5-25 s). So zxcvbn's own matchers and scoring run here with two bounds:

- **Windows.** zxcvbn sees at most ``WINDOW`` (24) characters at a time. Up to 24 characters
  a password is scored exactly as zxcvbn scores it. A longer one first has its repetitions of
  a base of two or more characters kept once ("sydneysydney" -> "sydney", see
  collapse_repeats), then its first and its last 24 characters are scored, and it is as strong
  as the weaker of the two. Both ends must be strong on their own, so a weakness anywhere in
  them refuses the password; a long password can only be judged stricter than zxcvbn judges
  it, for example one that is strong only in its middle. zxcvbn's dictionary words are at
  most 23 characters, so every word fits in a window.
- **l33t maps.** The l33t matcher gets a substitution table trimmed to at most
  ``MAX_L33T_MAPS`` (8) maps. Real l33t passwords ("p@ssw0rd", "squ1rr3|w4t3r") need one to
  four; past 8, a further letter keeps only its first substitute, or none.

A password's check then scores at most two windows, twice when it contains the person's own
words (passwords.check_policy): 30-35 ms of CPU for the worst inputs found, against 5-25 s
before. Only zxcvbn's repeat matcher is written again here, because its recursion on the
repeated base must use the bounded matchers too. Figures and the comparison with zxcvbn on
sample passwords: docs/performance.md, "Password check cost".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zxcvbn import feedback, matching, scoring, time_estimates

WINDOW = 24
MAX_L33T_MAPS = 8

_GREEDY = re.compile(r"(.+)\1+")
_LAZY = re.compile(r"(.+?)\1+")
_LAZY_ANCHORED = re.compile(r"^(.+?)\1+$")


@dataclass(frozen=True)
class Strength:
    """zxcvbn's score (0-4) and warning, and how many windows were scored to decide it."""

    score: int
    warning: str
    windows: int


def windows(password: str) -> list[str]:
    """What zxcvbn looks at: the password, or the two ends of it with repetitions collapsed."""
    if len(password) <= WINDOW:
        return [password]
    collapsed = collapse_repeats(password)
    return list(dict.fromkeys([collapsed[:WINDOW], collapsed[-WINDOW:]]))


def collapse_repeats(password: str) -> str:
    """``password`` with each repetition of a base of two or more characters kept once.

    Found as zxcvbn's repeat matcher finds them. A window cut through "sydneysydney…" would
    start mid-word ("eysydn" repeated), which zxcvbn scores far above the whole; kept once, the
    base is judged as the word it is, and zxcvbn counts a repetition as little more than its
    base anyway. Doubled letters ("coffee") are left alone: collapsing them would turn words
    into unknown strings.
    """
    kept, last = [], 0
    while last < len(password):
        found = _repeat_at(password, last)
        if found is None:
            break
        (i, j), base = found
        kept.append(password[last:i] + (base if len(base) > 1 else password[i:j]))
        last = j
    return "".join(kept) + password[last:]


def _repeat_at(text: str, pos: int) -> tuple[tuple[int, int], str] | None:
    """The next repetition at or after ``pos`` and its base, as zxcvbn's matcher picks them."""
    greedy = _GREEDY.search(text, pos=pos)
    lazy = _LAZY.search(text, pos=pos)
    if not greedy or not lazy:
        return None
    if len(greedy.group(0)) > len(lazy.group(0)):
        return greedy.span(), _LAZY_ANCHORED.search(greedy.group(0)).group(1)
    return lazy.span(), lazy.group(1)


def estimate(password: str, user_inputs: list[str], min_score: int) -> Strength:
    """The lowest score of the windows of ``password``; stops at the first below min_score."""
    if not password:  # nothing left once the person's words are removed; zxcvbn fails on ""
        return Strength(0, "", 0)
    dictionaries = dict(matching.RANKED_DICTIONARIES)
    # zxcvbn() stores the person's words in its module-wide dictionaries, where a parallel
    # check in another thread would see them; a copy per call keeps them to this check.
    dictionaries["user_inputs"] = matching.build_ranked_dict([w.lower() for w in user_inputs])
    scored: list[tuple[int, str]] = []
    for piece in windows(password):
        scored.append(_score_window(piece, dictionaries))
        if scored[-1][0] < min_score:
            break
    score, warning = min(scored, key=lambda found: found[0])
    return Strength(score, warning, len(scored))


def _score_window(piece: str, dictionaries: dict) -> tuple[int, str]:
    result = scoring.most_guessable_match_sequence(piece, _omnimatch(piece, dictionaries))
    score = time_estimates.estimate_attack_times(result["guesses"])["score"]
    return score, feedback.get_feedback(score, result["sequence"])["warning"]


def _omnimatch(piece: str, dictionaries: dict) -> list[dict]:
    """zxcvbn's omnimatch, with the l33t and repeat matchers bounded."""
    found: list[dict] = []
    for matcher in (
        matching.dictionary_match,
        matching.reverse_dictionary_match,
        matching.spatial_match,
        matching.sequence_match,
        matching.regex_match,
        matching.date_match,
    ):
        found.extend(matcher(piece, _ranked_dictionaries=dictionaries))
    found.extend(
        matching.l33t_match(piece, dictionaries, _l33t_table=l33t_table(piece, MAX_L33T_MAPS))
    )
    found.extend(_repeat_match(piece, dictionaries))
    return sorted(found, key=lambda m: (m["i"], m["j"]))


def l33t_table(piece: str, max_maps: int) -> dict[str, list[str]]:
    """zxcvbn's l33t table for ``piece``, trimmed so that it enumerates at most max_maps maps.

    Letters are added in zxcvbn's order; one that would take the table past max_maps keeps
    its first substitute only, or is left out. Adding a letter with k substitutes multiplies
    the maps by at most k, or 2k when one of them already stands for an earlier letter ("1"
    for both i and l): the maps are only enumerated when that bound is passed.
    """
    relevant = matching.relevant_l33t_subtable(piece, matching.L33T_TABLE)
    table: dict[str, list[str]] = {}
    maps, used = 1, set()
    for letter, subs in relevant.items():
        for kept in (subs, subs[:1]):
            bound = maps * len(kept) * (2 if used.intersection(kept) else 1)
            if bound > max_maps:
                bound = len(matching.enumerate_l33t_subs({**table, letter: kept}))
            if bound <= max_maps:
                table[letter], maps = kept, bound
                used.update(kept)
                break
    return table


def _repeat_match(piece: str, dictionaries: dict) -> list[dict]:
    """zxcvbn's repeat matcher (matching.repeat_match), scoring the base with _omnimatch."""
    found = []
    last = 0
    while last < len(piece):
        repeat = _repeat_at(piece, last)
        if repeat is None:
            break
        (i, end), base = repeat
        analysis = scoring.most_guessable_match_sequence(base, _omnimatch(base, dictionaries))
        found.append(
            {
                "pattern": "repeat",
                "i": i,
                "j": end - 1,
                "token": piece[i:end],
                "base_token": base,
                "base_guesses": analysis["guesses"],
                "base_matches": analysis["sequence"],
                "repeat_count": (end - i) / len(base),
            }
        )
        last = end
    return found
