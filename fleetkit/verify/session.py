"""One host's pytest session, in-process: the arguments that isolate it and the run."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetkit.connection.base import Connection
from fleetkit.verify import plugin as fixtures
from fleetkit.verify.job import Layout
from fleetkit.verify.plugin import Emit, VerifyPlugin

TESTINFRA_PLUGIN = "pytest11.testinfra"
"""testinfra's own pytest plugin (entry point name): its `host` fixture would connect
by testinfra's backends, so the worker disables it and provides `host` itself."""


def pytest_args(layout: Layout, inifile: Path) -> list[str]:
    """Run the test files as pytest would, but with an empty configuration of fleetkit's
    (a repository's addopts or filterwarnings do not apply), conftest.py files only from
    the tests' own folders, no cache folder, and same-named files in different roles
    (every role's tests/test_default.py) side by side (importlib import mode)."""
    return [
        *layout.paths,
        "-c",
        str(inifile),
        "--rootdir",
        layout.rootdir,
        "--confcutdir",
        layout.confcutdir,
        "--import-mode=importlib",
        "-p",
        f"no:{TESTINFRA_PLUGIN}",
        "-p",
        "no:cacheprovider",
        "-q",
    ]


def run_session(
    layout: Layout,
    connect: Callable[[], Connection],
    emit: Emit,
    *,
    become: bool = False,
    timeout: float | None = None,
) -> int:
    """Collect, connect (only when collection succeeded), run; emit an event per test
    and a final `end` event with pytest's exit status and the number of tests."""
    plugin = VerifyPlugin(connect, emit, become=become, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="fleetkit-verify-") as tmp:
        inifile = Path(tmp) / "pytest.ini"
        inifile.write_text("[pytest]\n")
        status = int(pytest.main(pytest_args(layout, inifile), plugins=[plugin, fixtures]))
    emit({"event": "end", "status": status, "tests": plugin.tests})
    return status
