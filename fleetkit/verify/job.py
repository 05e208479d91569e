"""What the controller sends a verify worker: one host, its connection spec, the tests."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import FleetkitError


class VerifyError(FleetkitError):
    """Test files that cannot be run (missing, not importable, no tests): bad input."""


def require_testinfra() -> None:
    """A clear error (bad input) when pytest-testinfra is not installed."""
    if importlib.util.find_spec("testinfra") is None or importlib.util.find_spec("pytest") is None:
        raise VerifyError(
            "testinfra tests need pytest and pytest-testinfra",
            hint="pip install 'fleetkit[verify]'",
        )


@dataclass(frozen=True)
class Layout:
    """Where pytest runs from: the test paths, the rootdir that names them and the
    folder above which no conftest.py is read (the tests' own common folder)."""

    paths: tuple[str, ...]
    rootdir: str
    confcutdir: str

    @classmethod
    def of(cls, paths: Sequence[Path], cwd: Path) -> Layout:
        """Node ids relative to cwd when every path is under it (as the user typed
        them), else to the paths' common folder; conftest.py files are read from the
        tests' own folders only (never a repository's top-level conftest.py)."""
        if not paths:
            raise VerifyError("no test files given", hint="fleetkit verify TESTS... -i INV")
        resolved = []
        for p in paths:
            full = (cwd / p).resolve()
            if not full.exists():
                raise VerifyError(f"{p}: no such file or directory")
            if full.is_file() and full.suffix != ".py":
                raise VerifyError(f"{p}: not a Python test file (testinfra tests are .py)")
            resolved.append(full)
        folders = [p if p.is_dir() else p.parent for p in resolved]
        common = Path(os.path.commonpath([str(f) for f in folders]))
        under_cwd = all(p.is_relative_to(cwd.resolve()) for p in resolved)
        root = cwd.resolve() if under_cwd else common
        return cls(tuple(str(p) for p in resolved), str(root), str(common))


@dataclass(frozen=True)
class Job:
    """One worker's assignment (JSON over the worker's stdin)."""

    host: str
    spec: ConnectionSpec
    layout: Layout
    become: bool = False
    timeout: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "spec": asdict(self.spec),
            "layout": asdict(self.layout),
            "become": self.become,
            "timeout": self.timeout,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        layout = data["layout"]
        return cls(
            host=str(data["host"]),
            spec=ConnectionSpec(**data["spec"]),
            layout=Layout(tuple(layout["paths"]), layout["rootdir"], layout["confcutdir"]),
            become=bool(data["become"]),
            timeout=data["timeout"],
        )
