"""The fault suite's shared pieces: an inventory with short connect timeouts, the
scenario -> outcome table (printed at the end of the session, kept in
docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.faults.lab_faults import Table

from fleetkit.lab import LabState

CONNECT_TIMEOUT_S = 3


def _table(config: pytest.Config) -> Table:
    table = getattr(config, "_fleetkit_fault_table", None)
    if table is None:
        table = Table()
        config._fleetkit_fault_table = table  # type: ignore[attr-defined]
    return table


@pytest.fixture
def outcomes(request: pytest.FixtureRequest) -> Table:
    """Where a scenario records what the user saw (one row per scenario)."""
    return _table(request.config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    table = _table(terminalreporter.config)
    if table.rows:
        terminalreporter.write_sep("-", "fault suite: scenario -> outcome")
        terminalreporter.write_line(table.markdown())


@pytest.fixture(scope="module")
def fault_inventory(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's inventory with a 3 s connect timeout (so a dead peer is found fast)."""
    assert lab.inventory is not None
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"].setdefault("vars", {})["ansible_ssh_timeout"] = CONNECT_TIMEOUT_S
    out = tmp_path_factory.mktemp("faults") / "hosts.yml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out
