"""Benchmark: the cost of one password check on the worst inputs found (target: well under 100 ms).

Times, for each input, zxcvbn 4.5.0 called on the whole password as the policy used to call it
("before"), and the policy's check today (``passwords.check_policy`` with the person's words,
which runs the bounded estimate of ``services/accounts/password_strength.py`` on the password and on
what is left without those words). CPU time of this process (``time.process_time``), best of
--repeat runs, so other load on the machine counts less; the wall time of the same run too.
--search N first looks for slower inputs: N random mutations of the worst input, kept when
they cost more; the slowest found is added to the table.

    .venv/bin/python bench/bench_password_check.py [--repeat 5] [--search 200] [--skip-before]

The output is the Markdown table that docs/performance.md keeps under "Password check cost".
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zxcvbn import zxcvbn

from acs_auth import create_app
from acs_auth.services.accounts.passwords import PasswordRejected, PolicyContext, check_policy

LEET = "!$%(+0123456789<@[{|"
CONTEXT = PolicyContext(email="ada.lovelace@example.org", first_name="Ada", last_name="Lovelace")
INPUTS = {
    "issue: l33t run x6.4": (LEET * 7)[:128],
    "l33t letters, name first": (
        "adaa||4!a4ll@7@1@|!l4taoio0ol11i0i!to!o!771!io!1o014@!0taoi@ii0!taa04!70l0oai4t0i@a"
        "oaa047ia!@l0ll!aooo4@@tl!70oi4@|ia17a|1@t1l@7"
    ),
    "l33t symbols, name first": (
        "ada2{<+6|<{%|!<3[21<[[<7+56@7!%0{$463<|789{9+6($+<13848@7{6[{8325!3|04[{{(1{34({6<%"
        "668+!468($||$735[3@2$4!%(|[$184|3+$556+779@!|"
    ),
    "random digits, name first": (
        "ada011524893909266858783005956682886307572885882778592572678374788577293773529474488"
        "88996437565052311974931624340600522301110505"
    ),
    "digit sequence": ("0123456789" * 13)[:128],
    "a x128": "a" * 128,
    "ab x64": "ab" * 64,
    "repeated words": ("redsoxsydney" * 11)[:128],
    "passphrase (128)": (
        "violet umbrella marching sideways under a quiet copper moon while seven otters juggle "
        "lanterns near the old harbour wall at dusk"
    ),
    "typical: 16 characters": "Tr0ub4dor&3horse",
}
ALPHABET = LEET + "ilotaeo" + "abcdefghij"


def check(password: str) -> str:
    """The policy's answer: "accepted", or the start of the reason."""
    try:
        check_policy(password, CONTEXT)
    except PasswordRejected as exc:
        return "refused: " + str(exc).split(".")[1].strip()[:30]
    return "accepted"


def timed(fn, password: str, repeat: int) -> tuple[float, float, object]:
    """Best CPU and wall milliseconds of ``repeat`` runs, and the last result."""
    cpu, wall, result = [], [], None
    for _ in range(repeat):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        result = fn(password)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return min(cpu) * 1000, min(wall) * 1000, result


def search(start: str, rounds: int, seed: int = 1) -> str:
    """The slowest input found by random mutations of ``start`` (kept when they cost more)."""
    rng = random.Random(seed)
    best, cost = start, timed(check, start, 2)[0]
    for _ in range(rounds):
        chars = list(best)
        for _ in range(rng.randint(1, 6)):
            chars[rng.randrange(3, len(chars))] = rng.choice(ALPHABET)
        candidate = "".join(chars)
        spent = timed(check, candidate, 2)[0]
        if spent > cost:
            best, cost = candidate, spent
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--search", type=int, default=0, help="mutation rounds (0: none)")
    parser.add_argument("--skip-before", action="store_true", help="do not time zxcvbn alone")
    args = parser.parse_args()
    app = create_app("testing")
    inputs = dict(INPUTS)
    with app.app_context():
        if args.search:
            start = INPUTS["l33t letters, name first"]
            inputs["slowest found by --search"] = search(start, args.search)
        print(
            "| Input | Length | Before: zxcvbn, CPU ms | After: check, CPU ms | After, wall ms "
            "| Answer |"
        )
        print("|---|---:|---:|---:|---:|---|")
        worst = 0.0
        for name, password in inputs.items():
            before = "—"
            if not args.skip_before:
                spent = timed(lambda p: zxcvbn(p, max_length=128), password, 1)[0]
                before = f"{spent:,.0f}"
            cpu, wall, answer = timed(check, password, args.repeat)
            worst = max(worst, cpu)
            print(f"| {name} | {len(password)} | {before} | {cpu:.1f} | {wall:.1f} | {answer} |")
        print(f"\nWorst check: {worst:.1f} ms of CPU.")


if __name__ == "__main__":
    main()
