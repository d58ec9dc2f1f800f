"""The layering DESIGN.md states, checked on the source: no channel imports another channel, ``routing``
imports nothing of ours but ``routing``, and SQL statements are written only in ``crm_core`` (issue 16:
the CRM core is the one place that knows the schema)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("actors", "channels", "crm_core", "dashboards", "routing")
SHARED_CHANNEL_MODULES = {"base", "serialization", "phones", "sandbox"}
_SQL = re.compile(r"^\s*(WITH\s+\w+\s+AS\s*\(|SELECT\s.+\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s)", re.I | re.S)


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_no_channel_imports_another():
    found = []
    for path, tree in _modules("channels"):
        parts = path.relative_to(ROOT / "channels").parts
        own = parts[0].removesuffix(".py")
        if own in SHARED_CHANNEL_MODULES:
            continue
        for name in _imports(tree):
            pieces = name.split(".")
            if pieces[0] == "channels" and len(pieces) > 1 and pieces[1] not in (own, *SHARED_CHANNEL_MODULES):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    assert found == []


def test_routing_imports_nothing_of_ours_but_routing():
    found = [f"{path.relative_to(ROOT)} imports {name}" for path, tree in _modules("routing")
             for name in _imports(tree) if name.split(".")[0] in OURS and not name.startswith("routing")]
    assert found == []


def test_sql_is_written_only_in_the_crm_core():
    found = []
    for package in ("actors", "channels", "dashboards", "routing"):
        for path, tree in _modules(package):
            if "sandbox" in path.parts:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.match(node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert found == []
