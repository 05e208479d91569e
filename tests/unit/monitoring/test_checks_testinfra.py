"""Checks files that name testinfra files: a .py file is one, YAML lists them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import MonitoringError
from fleetkit.monitoring.checks import HealthConfig, Thresholds, load_checks

pytestmark = pytest.mark.unit


def test_a_python_file_is_a_testinfra_checks_file_with_default_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "test_web.py"
    path.write_text("def test_x(host):\n    pass\n")
    assert load_checks(path) == HealthConfig(testinfra=(path,))


def test_yaml_lists_testinfra_files_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_web.py").write_text("")
    path = tmp_path / "checks.yml"
    path.write_text("thresholds:\n  load_per_cpu: 4\ntestinfra: [tests/test_web.py]\n")
    config = load_checks(path)
    assert config.testinfra == (tmp_path / "tests" / "test_web.py",)
    assert config.thresholds == Thresholds(load_per_cpu=4.0)


def test_a_missing_testinfra_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "checks.yml"
    path.write_text("commands: []\ntestinfra:\n  - nope.py\n")
    with pytest.raises(MonitoringError, match=r"nope\.py does not exist") as err:
        load_checks(path)
    assert err.value.position is not None and err.value.position.line == 2


def test_yaml_checks_without_testinfra_are_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "checks.yml"
    path.write_text("commands:\n  - name: ntp\n    command: 'true'\n")
    config = load_checks(path)
    assert config.testinfra == () and [c.name for c in config.commands] == ["ntp"]
