"""Browser helpers: pages watched for server errors and CSP reports, axe-core, the sign-in form."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

from tests.support.config import STRONG_PASSWORD

# axe-core impacts that fail a page; "moderate" and "minor" are reported, not fatal.
BLOCKING = ("serious", "critical")
VIEWPORT = {"width": 1280, "height": 900}
# Rule ids to report without failing (comma-separated), for a known defect awaiting its fix.
IGNORED = {r.strip() for r in os.environ.get("E2E_AXE_IGNORE", "").split(",") if r.strip()}
# Set E2E_CSP_REPORT_ONLY=1 to list the resources the CSP refuses without failing on them.
CSP_REPORT_ONLY = os.environ.get("E2E_CSP_REPORT_ONLY") == "1"
_AXE = Axe()
TOKEN_IN_PATH = re.compile(
    r"(/(?:reset-password|setup-password|register/password|admin/allowlist/uploads)/)[^/?]+"
)


def page_key(url: str) -> str:
    """The path of ``url`` with tokens and ids replaced, so the report names pages, not visits."""
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    path = TOKEN_IN_PATH.sub(r"\1<token>", path)
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


def describe(violations: list[dict]) -> str:
    """One readable paragraph per violation: rule, impact, the elements and how to fix them."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


class Watched:
    """A page plus what it saw: responses ≥ 500, CSP refusals, script errors, axe results.

    A refused resource is a defect even when the page still works: the CSP is `default-src
    'self'` by contract, so whatever a template or the vendored CSS loads must come from 'self'.
    (Failed loads such as the browser's own /favicon.ico request, or a 400 page a test expects,
    are not counted: tests assert on the statuses they care about.)
    """

    def __init__(self, page, report: dict):
        self.page = page
        self.report = report
        self.server_errors: list[str] = []
        self.csp_refusals: list[str] = []
        self.script_errors: list[str] = []
        page.on("response", self._response)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def _response(self, response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_refusals.append(f"{self.page.url}: {message.text[:400]}")

    def goto(self, path: str):
        response = self.page.goto(path)
        self.check()
        return response

    def check(self, name: str | None = None) -> None:
        """axe-core on the page as it is now: no serious or critical violation."""
        self.page.wait_for_load_state("load")
        results = _AXE.run(self.page)
        violations = results.response["violations"]
        key = name or page_key(self.page.url)
        self.report[key] = [
            {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in violations
        ]
        blocking = [v for v in violations if v["impact"] in BLOCKING and v["id"] not in IGNORED]
        assert not blocking, f"axe on {self.page.url}:\n{describe(blocking)}"

    def assert_clean(self) -> None:
        assert not self.server_errors, self.server_errors
        assert not self.script_errors, self.script_errors
        if CSP_REPORT_ONLY:
            for refusal in sorted(set(self.csp_refusals)):
                print("CSP refused:", refusal)
        else:
            assert not self.csp_refusals, "\n".join(sorted(set(self.csp_refusals)))

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def write_report(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, sort_keys=True))


def sign_in(w: Watched, email: str, password: str = STRONG_PASSWORD, remember: bool = False):
    """Fill and send the sign-in form (the page must already be /login)."""
    page = w.page
    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password").fill(password)
    if remember:
        page.get_by_label("Keep me signed in on this device").check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def path_of(w: Watched) -> str:
    return "/" + w.page.url.split("://", 1)[1].split("/", 1)[1]
