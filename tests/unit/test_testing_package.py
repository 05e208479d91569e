"""fleetkit.testing holds test doubles: package code outside it must never import them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fleetkit

pytestmark = pytest.mark.unit

PACKAGE = Path(fleetkit.__file__).resolve().parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_package_code_does_not_import_the_doubles() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "testing" not in path.relative_to(PACKAGE).parts
        for name in sorted(_imported_modules(path))
        if name == "fleetkit.testing" or name.startswith("fleetkit.testing.")
    ]
    assert offenders == []


def test_the_checker_sees_an_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from fleetkit.testing.fake_connection import FakeConnection\n")
    assert "fleetkit.testing.fake_connection" in _imported_modules(sample)


def test_old_double_paths_are_gone() -> None:
    for old in ("connection/fake.py", "orchestrators/fake_engine.py", "dashboards/fake.py"):
        assert not (PACKAGE / old).exists(), old
    assert not (PACKAGE / "dashboards" / "promql.py").exists()
