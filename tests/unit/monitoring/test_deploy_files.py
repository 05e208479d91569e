"""Deployment files: the exporter/health playbooks load and their templates render."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from fleetkit.playbook.check import check_playbook
from fleetkit.playbook.load import load_playbook
from fleetkit.playbook.render import Renderer

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = ("monitoring-exporter.yml", "health-cron.yml")


def renderer() -> Renderer:
    return Renderer([ROOT / "playbooks" / "templates", ROOT / "templates"])


def play_vars(name: str) -> dict[str, Any]:
    """The play's vars with their own templates resolved (as a run would)."""
    play = load_playbook(ROOT / "playbooks" / name).plays[0]
    out: dict[str, Any] = {}
    r = renderer()
    for key, value in play.vars.items():
        out[key] = r.render(value, out) if isinstance(value, str) else value
    return out


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_playbook_loads_and_every_variable_is_known(name: str) -> None:
    playbook = load_playbook(ROOT / "playbooks" / name)
    check_playbook(playbook, renderer(), ["inventory_hostname"])


def exec_start(unit: str) -> list[str]:
    line = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_exporter_unit_runs_the_exporter_with_the_play_settings() -> None:
    variables = play_vars("monitoring-exporter.yml")
    unit = renderer().render_file("fleetkit-exporter.service.j2", variables)
    argv = exec_start(unit)
    assert argv[:2] == ["/opt/fleetkit/bin/fleetkit", "exporter"]
    assert argv[argv.index("--listen") + 1] == ":9469"
    assert argv[argv.index("-i") + 1] == "/etc/fleetkit/inventory.yml"
    assert "--limit" not in argv and "--web-config" not in argv
    assert "KillSignal=SIGTERM" in unit and "User=fleetkit" in unit
    limited = renderer().render_file(
        "fleetkit-exporter.service.j2",
        {
            **variables,
            "exporter_limit": "all[0:399]",
            "exporter_web_config": "/etc/fleetkit/web.yml",
        },
    )
    argv = exec_start(limited)
    assert argv[argv.index("--limit") + 1] == "all[0:399]"
    assert argv[argv.index("--web-config") + 1] == "/etc/fleetkit/web.yml"


def test_health_service_and_timer_render() -> None:
    variables = play_vars("health-cron.yml")
    unit = renderer().render_file("fleetkit-health.service.j2", variables)
    argv = exec_start(unit)
    assert argv[1:4] == ["health", "-i", "/etc/fleetkit/inventory.yml"]
    assert argv[argv.index("--textfile") + 1].endswith("fleetkit_health.prom")
    assert "Type=oneshot" in unit
    timer = renderer().render_file("fleetkit-health.timer.j2", variables)
    assert "OnCalendar=*:0/5" in timer


def test_crontab_escapes_percent_and_prints_only_on_failure() -> None:
    variables = {**play_vars("health-cron.yml"), "health_mailto": "ops@example.com"}
    text = renderer().render_file("crontab.j2", variables)
    entry = next(ln for ln in text.splitlines() if ln.startswith("*/5 "))
    fields = entry.split(None, 6)
    assert fields[5] == "fleetkit"
    assert "%" not in entry.replace("\\%", "")  # a bare % would end the command for cron
    assert "|| printf" in entry
    assert "MAILTO=ops@example.com" in text
    assert text.endswith("\n")
