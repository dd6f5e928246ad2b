"""The repository's documents are true: links resolve, settings, variables and paths are named.

README.md must name every setting config.py reads and every environment variable the test
suites read, link only to files that exist, and give the JWKS path the app serves;
docs/security.md must name only tests that exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import config
from acs_auth import create_app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
ENV_READ = re.compile(
    r"""os\.(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']|"""
    r"""os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
)
TEST_REFERENCE = re.compile(r"`((?:[\w/]+\.py)?)::(test_\w+)`")


def relative_links(document: Path) -> list[str]:
    links = [m.group(1).split("#", 1)[0] for m in LINK.finditer(document.read_text("utf-8"))]
    return [link for link in links if link and not re.match(r"^[a-z]+:", link)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_of_the_readme_exists(document):
    missing = [link for link in relative_links(document) if not (document.parent / link).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"


def test_every_document_the_readme_names_exists():
    """`DESIGN.md`-style mentions count as links: a reader goes looking for them."""
    named = set(re.findall(r"`([\w./-]+\.md)`", README))
    missing = sorted(
        n for n in named if not (ROOT / n).exists() and not (ROOT / "docs" / n).exists()
    )
    assert not missing, f"README.md names documents that do not exist: {missing}"


def settings_read_from_the_environment() -> set[str]:
    names = set()
    for cls in config.CONFIGS.values():
        for klass in cls.__mro__:
            for value in vars(klass).values():
                if isinstance(value, config.Env):
                    names.update(value.names)
    return names


def test_every_setting_is_in_the_readme():
    settings = settings_read_from_the_environment()
    assert {"DATABASE_URL", "PROGRAM_URL_TEMPLATE", "MAIL_BACKEND"} <= settings
    missing = sorted(name for name in settings if f"`{name}`" not in README)
    assert not missing, f"README.md does not name these settings: {missing}"


def environment_variables_the_tests_read() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("*.py"):
        for match in ENV_READ.finditer(path.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return names


PROCESS_VARIABLES = {"PATH", "HOME"}


def test_every_environment_variable_the_tests_read_is_in_the_readme():
    variables = environment_variables_the_tests_read()
    assert {"TEST_DATABASE_URL", "TEST_REDIS_URL", "E2E_REDIS_URL"} <= variables
    # The process's own variables, passed through to a child, are no setting of the suites.
    missing = sorted(name for name in variables - PROCESS_VARIABLES if f"`{name}`" not in README)
    assert not missing, f"README.md does not name these test variables: {missing}"


def test_the_readme_names_the_jwks_path_that_is_served():
    served = {rule.rule for rule in create_app("testing").url_map.iter_rules()}
    named = set(re.findall(r"`(/[^`\s]*jwks[^`\s]*)`", README))
    assert named, "README.md names no JWKS path"
    assert named <= served, f"README.md names {named - served}, the app serves none of it"


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_test_named_in_security_md_exists():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    missing, current = [], None
    for line in text.splitlines():
        current = None  # a bare `::test_x` continues the file named before it in the row
        for file_name, name in TEST_REFERENCE.findall(line):
            current = file_name or current
            assert current, f"{name} has no file in: {line[:80]}"
            if name not in defined_tests(ROOT / "tests" / current):
                missing.append(f"{current}::{name}")
    assert not missing, f"docs/security.md names tests that do not exist: {missing}"
