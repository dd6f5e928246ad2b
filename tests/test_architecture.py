"""The import rules of docs/architecture.md hold: contracts kept, no cycles, views stay home.

import-linter checks the contracts in pyproject.toml (models import no services but the text
rules, services no views or blueprints, the text rules nothing else of acs_auth, only the
sign-in seam asks for a second factor, only the delivery rounds send mail, the API's typed
models import no views); grimp's graph of every import in acs_auth, those inside functions
included, shows no cycle between modules and no blueprint importing another blueprint's views.
The checkers are tried on small graphs first, so a check that could not fail would show.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The packages that mount a blueprint of pages or endpoints.
BLUEPRINTS = (
    "account",
    "admin",
    "api",
    "auth",
    "health",
    "metrics",
    "oidc",
    "passwords",
    "programs",
    "registration",
)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def _blueprint_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in BLUEPRINTS else None


def foreign_views(graph: grimp.ImportGraph) -> list[str]:
    """Imports of one blueprint's views module (``views`` or ``*_views``) from outside it."""
    found = []
    for imported in sorted(graph.modules):
        owner = _blueprint_of(imported)
        if owner is None or not imported.rsplit(".", 1)[-1].endswith("views"):
            continue
        for importer in sorted(graph.find_modules_that_directly_import(imported)):
            other = _blueprint_of(importer)
            if other is not None and other != owner:
                found.append(f"{importer} -> {imported}")
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph("acs_auth", cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


def _graph_of(*imports: tuple[str, str]) -> grimp.ImportGraph:
    made = grimp.ImportGraph()
    for importer, imported in imports:
        made.add_import(importer=importer, imported=imported)
    return made


def test_the_cycle_check_finds_a_cycle_of_three():
    made = _graph_of(("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"))
    assert cycles(made) == [["p.a", "p.b", "p.c"]]


def test_the_views_check_finds_a_blueprint_importing_anothers_views():
    made = _graph_of(
        ("acs_auth.registration.views", "acs_auth.passwords.views"),
        ("acs_auth.passwords.views", "acs_auth.passwords.forms"),
        ("acs_auth.admin.user_views", "acs_auth.admin.views"),
        ("acs_auth.registration.forms", "acs_auth.passwords.forms"),
    )
    assert foreign_views(made) == ["acs_auth.registration.views -> acs_auth.passwords.views"]


def test_no_import_cycles_between_modules(graph):
    assert cycles(graph) == []


def test_no_blueprint_imports_another_blueprints_views(graph):
    assert foreign_views(graph) == []


def lint_imports(*options: str) -> subprocess.CompletedProcess:
    """Run import-linter's command line on acs_auth (no cache: the tree may have changed)."""
    command = (
        "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    )
    return subprocess.run(
        [sys.executable, "-c", command, "--no-cache", "--no-logo", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_import_linter_reports_a_broken_contract(tmp_path):
    config = tmp_path / "broken.ini"
    config.write_text(
        "[importlinter]\nroot_package = acs_auth\n\n"
        "[importlinter:contract:1]\nname = Services import no models\ntype = forbidden\n"
        "source_modules = acs_auth.services\nforbidden_modules = acs_auth.models\n"
    )
    done = lint_imports("--config", str(config))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout


def test_the_import_contracts_are_kept():
    done = lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 kept, 0 broken" in done.stdout
