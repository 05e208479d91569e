"""`fleetkit health`: the checks file, verdicts, exit codes and outputs."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from fleetkit.cli import main
from fleetkit.connection.base import CommandResult
from fleetkit.errors import MonitoringError
from fleetkit.inventory.model import Group, Host, Inventory
from fleetkit.monitoring import health_output
from fleetkit.monitoring.checks import CommandCheck, HealthConfig, Thresholds, load_checks
from fleetkit.monitoring.cycle import Targets
from fleetkit.monitoring.health import (
    CheckResult,
    CommandOutcome,
    HealthReport,
    command_verdict,
    container_checks,
    host_checks,
    run_health,
    swarm_checks,
)
from fleetkit.monitoring.snapshot import Filesystem
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

from .conftest import FakeFleet
from .helpers import probe_answer, sample_fleet


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checks.yml"
    path.write_text(text)
    return path


def test_a_full_checks_file_loads(tmp_path: Path) -> None:
    cfg = load_checks(
        write(
            tmp_path,
            "thresholds:\n  load_per_cpu: 1.5\n  filesystem_used_percent: 80\n"
            "ignore_mountpoints: [/boot/efi]\n"
            "containers:\n  - name: 'web*'\n    hosts: workers\n"
            "services: [web]\n"
            "commands:\n  - name: ntp\n    command: echo yes\n    stdout: '^yes$'\n"
            "    timeout: 3\n",
        )
    )
    assert cfg.thresholds == Thresholds(1.5, 10.0, 80.0)
    assert cfg.containers[0].name == "web*" and cfg.containers[0].hosts == "workers"
    assert cfg.services == ("web",)
    assert cfg.commands[0] == replace(cfg.commands[0], name="ntp", rc=0, timeout=3.0)


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("thresholds:\n  load: 2\n", 2, "unknown key 'load' in thresholds"),
        ("thresholds:\n  load_per_cpu: high\n", 2, "must be a number"),
        ("thresholds:\n  filesystem_used_percent: 150\n", 2, "percentage"),
        ("comands: []\n", 1, "unknown key 'comands'"),
        ("commands:\n  - name: x\n", 2, "needs command"),
        ("commands:\n  - name: x\n    command: 'true'\n    stdout: '('\n", 4, "regex"),
        (
            "commands:\n  - name: a\n    command: 'true'\n  - name: a\n    command: 'false'\n",
            4,
            "two command checks",
        ),
        ("commands:\n  - name: 'bad name'\n    command: 'true'\n", 2, "letters, digits"),
        ("containers:\n  - hosts: all\n", 2, "needs a name"),
        ("thresholds: [\n", 2, "invalid YAML"),
    ],
)
def test_checks_file_mistakes_name_file_and_line(
    tmp_path: Path, text: str, line: int, match: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(MonitoringError, match=match) as err:
        load_checks(path)
    assert str(err.value).startswith(f"{path}:{line}")
    assert err.value.exit_code == 2


def verdicts(results: list[CheckResult]) -> dict[str, bool]:
    return {r.check: r.ok for r in results}


def test_a_healthy_host_passes_every_builtin_check() -> None:
    h1 = sample_fleet().hosts[0]
    assert verdicts(host_checks(h1, HealthConfig())) == {
        "reachable": True,
        "load": True,
        "memory": True,
        "filesystem:/": True,
        "filesystem:/srv/my disk": True,
    }


def test_thresholds_fail_load_memory_and_a_full_filesystem() -> None:
    h1 = sample_fleet().hosts[0]
    busy = replace(
        h1,
        load=(12.0, 1.0, 1.0),
        memory_available_bytes=100 << 20,
        filesystems=(Filesystem("/data", "xfs", "/dev/sdb", 100, 3),),
    )
    results = host_checks(busy, HealthConfig())
    assert verdicts(results) == {
        "reachable": True,
        "load": False,
        "memory": False,
        "filesystem:/data": False,
    }
    fs = next(r for r in results if r.check == "filesystem:/data")
    assert fs.value == 97.0 and "97.0% used" in fs.msg


def test_ignored_mountpoints_are_not_checked() -> None:
    h1 = sample_fleet().hosts[0]
    cfg = HealthConfig(ignore_mountpoints=("/srv/*",))
    assert "filesystem:/srv/my disk" not in verdicts(host_checks(h1, cfg))


def test_an_unreachable_host_has_only_the_reachable_check() -> None:
    h2 = sample_fleet().hosts[1]
    results = host_checks(h2, HealthConfig())
    assert [(r.check, r.ok, r.msg) for r in results] == [("reachable", False, "refused")]


def test_required_containers_must_run_and_be_healthy() -> None:
    h1 = sample_fleet().hosts[0]
    got = verdicts(container_checks(h1, ["web*", "db", "cache"]))
    assert got == {"container:web*": True, "container:db": False, "container:cache": False}
    nodocker = replace(h1, containers=None)
    assert container_checks(nodocker, ["web*"])[0].msg == "docker is not available on the host"


def test_swarm_services_must_run_all_replicas_and_required_ones_exist() -> None:
    snap = sample_fleet()
    results = swarm_checks(snap, Targets(hosts=("h1",), managers=("h1",)), ["web", "api"])
    assert verdicts(results) == {"service:web": False, "service:api": False}
    assert results[0].host == "h1" and results[0].msg == "2/3 replicas running"
    missing = swarm_checks(
        replace(snap, swarm=None), Targets(hosts=("h1",), managers=("h1",)), ["web"]
    )
    assert [(r.host, r.check, r.ok) for r in missing] == [("h1", "swarm", False)]
    assert swarm_checks(replace(snap, swarm=None), Targets(hosts=("h1",)), []) == []


def test_command_verdicts_check_rc_output_and_timeouts() -> None:
    check = CommandCheck("ntp", "x", stdout="^yes$")
    assert command_verdict("h", check, CommandOutcome(0, "yes\n", "")).ok
    assert not command_verdict("h", check, CommandOutcome(0, "no\n", "")).ok
    failed = command_verdict("h", check, CommandOutcome(3, "", "boom\n"))
    assert not failed.ok and failed.msg == "exit code 3, expected 0: boom"
    assert "timed out" in command_verdict("h", check, CommandOutcome(None, "", "", True)).msg
    assert command_verdict("h", CommandCheck("f", "false", rc=1), CommandOutcome(1, "", "")).ok


def report(*results: CheckResult) -> HealthReport:
    return HealthReport(results=results, hosts=("a", "b"), duration_s=0.1, timestamp=1.0)


def test_exit_codes_zero_one_and_three() -> None:
    ok = CheckResult("a", "reachable", True)
    down = CheckResult("b", "reachable", False, "refused")
    full = CheckResult("a", "filesystem:/", False, "99% used")
    assert report(ok).exit_code() == 0
    assert report(ok, down).exit_code() == 3
    assert report(ok, full).exit_code() == 1
    assert report(ok, full, down).exit_code() == 1


def test_human_report_names_the_failing_check() -> None:
    lines = list(
        health_output.human_lines(
            report(
                CheckResult("a", "reachable", True),
                CheckResult("a", "filesystem:/srv", False, "/srv 99.0% used (max 90%)"),
                CheckResult("b", "reachable", False, "refused"),
            )
        )
    )
    assert lines[0] == "a  FAILED"
    assert lines[1].strip() == "filesystem:/srv: /srv 99.0% used (max 90%)"
    assert lines[2] == "b  UNREACHABLE"
    assert lines[-1].endswith("-> exit 1")


def test_json_lines_have_checks_then_a_summary() -> None:
    rows = [
        json.loads(line)
        for line in health_output.json_lines(
            report(CheckResult("a", "load", False, "high", 3.0, 2.0))
        )
    ]
    assert rows[0] == {
        "event": "check",
        "host": "a",
        "check": "load",
        "ok": False,
        "msg": "high",
        "value": 3.0,
        "threshold": 2.0,
    }
    assert rows[-1]["event"] == "summary" and rows[-1]["exit_code"] == 1


def test_metrics_text_has_check_ok_per_host_and_the_run_time() -> None:
    text = health_output.metrics_text(
        report(CheckResult("a", "load", True), CheckResult("b", "reachable", False))
    ).decode()
    assert 'fleetkit_health_check_ok{check="load",host="a"} 1.0' in text
    assert 'fleetkit_health_check_ok{check="reachable",host="b"} 0.0' in text
    assert "fleetkit_health_last_run_timestamp_seconds 1.0" in text


def test_textfile_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "fleetkit_health.prom"
    target.write_bytes(b"old\n")
    inode = target.stat().st_ino
    health_output.write_textfile(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_ino != inode  # a new file renamed over, never rewritten in place
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert os.listdir(tmp_path) == ["fleetkit_health.prom"]


def test_a_failed_textfile_write_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "fleetkit_health.prom"
    target.write_bytes(b"old\n")
    seen: list[str] = []

    def broken_replace(src: str, dst: object) -> None:
        seen.append(os.path.basename(src))
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    # a full disk is a logged warning, not an error: the health verdicts stand (issue 11)
    assert health_output.write_textfile(target, b"new\n") is False
    assert target.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["fleetkit_health.prom"]
    assert not seen[0].endswith(".prom")  # node_exporter never reads the temp file


class _Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append(("PUT", self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def gateway() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.received.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pushgateway_gets_the_metrics_under_job_fleetkit_health(gateway: str) -> None:
    health_output.push(gateway, report(CheckResult("a", "load", True)))
    method, path, body = _Gateway.received[0]
    assert (method, path) == ("PUT", "/metrics/job/fleetkit_health")
    assert b"fleetkit_health_check_ok" in body


def test_an_unreachable_pushgateway_is_a_clear_error() -> None:
    with pytest.raises(MonitoringError, match="cannot push"):
        health_output.push("http://127.0.0.1:9", report(), timeout=2)


@pytest.fixture
def local_inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "hosts.yml"
    inv.write_text("all:\n  hosts:\n    here:\n      ansible_connection: local\n")
    return inv


# This machine's load is whatever else runs on it: judge the rest.
CALM = "thresholds:\n  load_per_cpu: 1000\n"


def test_cli_passes_on_a_healthy_host_and_writes_the_textfile(
    local_inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    textfile = tmp_path / "health.prom"
    checks = write(tmp_path, CALM)
    args = ["health", "-i", str(local_inventory), "--checks", str(checks)]
    assert main([*args, "--textfile", str(textfile)]) == 0
    assert capsys.readouterr().out.startswith("here  ok (")
    assert 'fleetkit_health_check_ok{check="reachable",host="here"} 1.0' in textfile.read_text()


def test_cli_failing_command_check_is_exit_1_and_named(
    local_inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = write(
        tmp_path,
        CALM + "commands:\n  - name: always-fails\n    command: 'echo nope >&2; exit 4'\n"
        "  - name: greets\n    command: echo hello\n    stdout: hello\n",
    )
    code = main(["health", "-i", str(local_inventory), "--checks", str(checks), "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    failed = rows[-1]["failed"]
    assert failed == [{"host": "here", "check": "command:always-fails"}]
    assert any(r.get("check") == "command:greets" and r["ok"] for r in rows)


def test_cli_checks_pattern_matching_nothing_is_bad_input(
    local_inventory: Path, tmp_path: Path
) -> None:
    checks = write(tmp_path, "commands:\n  - name: x\n    command: 'true'\n    hosts: nosuch\n")
    assert main(["health", "-i", str(local_inventory), "--checks", str(checks)]) == 2


def test_cli_textfile_in_a_missing_folder_is_bad_input(
    local_inventory: Path, tmp_path: Path
) -> None:
    target = tmp_path / "nope" / "x.prom"
    assert main(["health", "-i", str(local_inventory), "--textfile", str(target)]) == 2


def test_run_health_over_fakes_judges_every_host_and_runs_commands_once(
    fake_fleet: FakeFleet,
) -> None:
    inventory = Inventory(
        source=Path("inv"),
        hosts={
            "a": Host("a", groups=("web",)),
            "b": Host("b", groups=("web",)),
            "dead": Host("dead", groups=("db",)),
        },
        groups={
            "web": Group("web", hosts=("a", "b")),
            "db": Group("db", hosts=("dead",)),
        },
    )
    answer = probe_answer()

    def handler(call: FakeCall) -> CommandResult:
        if call.command == "check-web":
            return CommandResult(0 if call.host == "a" else 2, "", "bad\n", 0.0)
        return answer(call)

    conns = {
        "a": FakeConnection("a", handler),
        "b": FakeConnection("b", handler),
        "dead": FakeConnection("dead", unreachable=True),
    }
    config = HealthConfig(
        thresholds=Thresholds(load_per_cpu=1000),
        commands=(CommandCheck("web", "check-web", hosts="web"),),
    )
    result = run_health(inventory, ("a", "b", "dead"), config, pool=fake_fleet(conns))
    assert [(r.host, r.check) for r in result.failed] == [("b", "command:web")]
    assert result.unreachable == ("dead",)
    assert result.exit_code() == 1
    assert [c.command for c in conns["a"].calls].count("check-web") == 1
    assert len(conns["a"].calls) == 2  # the probe, then the command: same connection
