"""Fixtures for inventory tests: small inventory files written into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.model import Inventory

WriteFile = Callable[[str, str], Path]
LoadText = Callable[[str, str], Inventory]


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """write(relpath, text): dedented text, first line is line 1; returns the path."""

    def _write(relpath: str, text: str) -> Path:
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def load_text(write: WriteFile) -> LoadText:
    """load_text(filename, text): write one inventory file and load it."""

    def _load(filename: str, text: str) -> Inventory:
        return load_inventory(write(filename, text))

    return _load
