"""Benchmark: the OpenID Connect token endpoint and userinfo beside the bare GET /api/ping.

Starts gunicorn (2 sync workers) with a temporary SQLite database (or --database-url), signs
a person in through the portal's /login, registers a confidential client and walks the code
flow (PKCE S256) once per connection to get a token pair each. Then, in pairs of short
rounds, a fixed number of keep-alive connections drive: GET /api/ping (the baseline),
GET /oauth/userinfo with an access token, and POST /oauth/token with grant_type=refresh_token
(each connection follows its own rotation chain: every answer's refresh token is the next
request's). It prints the requests per second of each and the median ratios to the baseline
(docs/performance.md records them). Every answer must be a 200, or the run fails.

    .venv/bin/python bench/bench_oidc.py [--duration 3] [--rounds 5] [--connections 4]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_api_me import EMAIL, PASSWORD, Server  # noqa: E402

REDIRECT = "https://chatbot.example/callback"
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def register_client(server: Server) -> tuple[str, str]:
    """A first-party confidential client, registered in the benchmark's database."""
    from acs_auth import create_app
    from acs_auth.extensions import dispose_engines
    from acs_auth.oidc import clients

    app = create_app("development", SQLALCHEMY_DATABASE_URI=server.database_url)
    with app.app_context():
        done = clients.register("Bench", redirect_uris=[REDIRECT], first_party=True)
        found = done.client.client_id, done.secret
        dispose_engines()
    return found


class Browser:
    """A cookie-keeping HTTP client just good enough for /login and /oauth/authorize."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response, text

    def sign_in(self) -> None:
        _, page = self.request("GET", "/login")
        match = CSRF.search(page)
        token = match.group(1) or match.group(2)
        response, _ = self.request(
            "POST", "/login", {"csrf_token": token, "email": EMAIL, "password": PASSWORD}
        )
        assert response.status == 302, response.status

    def token_pair(self, client_id: str, secret: str) -> dict:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid email profile programs",
            "state": "s",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        response, _ = self.request("GET", "/oauth/authorize?" + urlencode(query))
        code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        response, text = self.request(
            "POST",
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
            {"Authorization": f"Basic {basic}"},
        )
        assert response.status == 200, text
        return json.loads(text)


def drive(port: int, kind: str, pair: dict, auth: str, seconds: float, out: list) -> None:
    """One keep-alive connection sending requests of ``kind`` for ``seconds``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    count, failed, deadline = 0, 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        if kind == "ping":
            conn.request("GET", "/api/ping")
        elif kind == "userinfo":
            conn.request(
                "GET",
                "/oauth/userinfo",
                headers={"Authorization": f"Bearer {pair['access_token']}"},
            )
        else:
            body = urlencode(
                {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
            )
            conn.request(
                "POST",
                "/oauth/token",
                body=body,
                headers={
                    "Authorization": auth,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        response = conn.getresponse()
        text = response.read()
        if response.status != 200:
            failed += 1
        elif kind == "token":
            pair.update(json.loads(text))
        count += 1
    conn.close()
    out.append((count, failed))


def measure(port: int, kind: str, pairs: list[dict], auth: str, seconds: float) -> float:
    results: list = []
    threads = [
        threading.Thread(target=drive, args=(port, kind, pair, auth, seconds, results))
        for pair in pairs
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if any(failed for _, failed in results):
        raise SystemExit(f"{kind}: {sum(f for _, f in results)} failed responses")
    return sum(c for c, _ in results) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite)")
    args = parser.parse_args()
    server = Server(
        workers=args.workers, database_url=args.database_url, env={"OIDC_PRIVATE_KEY_FILE": ""}
    )
    with server:
        client_id, secret = register_client(server)
        browser = Browser(server.port)
        browser.sign_in()
        pairs = [browser.token_pair(client_id, secret) for _ in range(args.connections)]
        auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        for kind in ("ping", "userinfo", "token"):  # warm-up
            measure(server.port, kind, pairs, auth, 1)
        rounds = [
            {
                kind: measure(server.port, kind, pairs, auth, args.duration)
                for kind in ("ping", "userinfo", "token")
            }
            for _ in range(args.rounds)
        ]
    database = "PostgreSQL" if args.database_url else "SQLite (temporary file)"
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"setup: gunicorn {args.workers} sync workers, {database}, {args.connections} "
        f"keep-alive connections, {args.rounds} rounds of {args.duration} s per endpoint"
    )
    for kind, label in (
        ("ping", "GET /api/ping"),
        ("userinfo", "GET /oauth/userinfo"),
        ("token", "POST /oauth/token (refresh_token, rotating)"),
    ):
        rps = [r[kind] for r in rounds]
        print(
            f"{label}: median {statistics.median(rps):.0f} req/s "
            f"(min {min(rps):.0f}, max {max(rps):.0f})"
        )
    for kind in ("userinfo", "token"):
        ratio = statistics.median(r[kind] / r["ping"] for r in rounds)
        print(f"ratio {kind} / ping: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
