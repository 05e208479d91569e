"""The connection keeper on lab hosts: reuse between runs, a killed connection re-opened,
a killed keeper, a changed user, another uid locked out. Each test has its own keeper
(its own XDG_RUNTIME_DIR), stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.faults.lab_faults import frozen
from tests.support import FLEETKIT, fleetkit, json_events

from fleetkit.keeper.client import keeper_request
from fleetkit.lab import LabState

pytestmark = pytest.mark.integration


class KeeperEnv:
    """The environment of runs sharing one private keeper."""

    def __init__(self, runtime: Path, inventory: str) -> None:
        self.runtime = runtime
        self.inventory = inventory
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "FLEETKIT_PERSIST": "5m"}

    @property
    def socket(self) -> Path:
        return self.runtime / "fleetkit" / "keeper.sock"

    def pid(self) -> int:
        return int((self.runtime / "fleetkit" / "keeper.lock").read_text().split()[0])

    def exec(self, *command: str, inventory: str | None = None) -> subprocess.CompletedProcess[str]:
        inv = inventory or self.inventory
        return fleetkit("exec", "all", "-i", inv, "--json", "--", *command, env=self.env)

    def ports(self, address: str) -> set[int]:
        """The keeper's local TCP ports of its connections to address:22."""
        out = subprocess.run(
            ["ss", "-tnpH", "state", "established", "dst", f"{address}:22"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pid = self.pid()
        return {
            int(line.split()[2].rsplit(":", 1)[1])
            for line in out.splitlines()
            if f"pid={pid}," in line
        }


@pytest.fixture
def keeper(lab: LabState) -> Iterator[KeeperEnv]:
    assert lab.inventory is not None
    runtime = Path(tempfile.mkdtemp(prefix="fk-keeper-", dir="/tmp"))
    os.chmod(runtime, 0o755)  # so another uid's failure below is the keeper's own 0700 dir
    k = KeeperEnv(runtime, str(lab.inventory))
    yield k
    fleetkit("persist", "stop", env=k.env)
    with contextlib.suppress(OSError, ValueError):
        os.kill(k.pid(), signal.SIGKILL)  # ours, if it did not stop
    shutil.rmtree(runtime, ignore_errors=True)


def _statuses(proc: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, int | None]]:
    return {
        e["host"]: (e["status"], e["rc"])
        for e in json_events(proc.stdout)
        if e["event"] == "host_result"
    }


def _addresses(lab: LabState) -> dict[str, str]:
    assert lab.inventory is not None
    data = yaml.safe_load(lab.inventory.read_text())
    out: dict[str, str] = {}

    def walk(group: dict[str, object]) -> None:
        for name, hv in (group.get("hosts") or {}).items():  # type: ignore[attr-defined]
            host = hv or {}
            out[name] = host.get("ansible_host") or host.get("address") or name
        for child in (group.get("children") or {}).values():  # type: ignore[attr-defined]
            walk(child or {})

    walk(data["all"])
    return out


def test_two_runs_reuse_the_same_tcp_connections(lab: LabState, keeper: KeeperEnv) -> None:
    first = keeper.exec("hostname")
    assert first.returncode == 0, first.stderr
    addresses = _addresses(lab)
    before = {h: keeper.ports(a) for h, a in addresses.items()}
    assert all(len(p) == 1 for p in before.values()), before
    second = keeper.exec("hostname")
    assert second.returncode == 0, second.stderr
    assert {h: keeper.ports(a) for h, a in addresses.items()} == before  # no new login
    assert _statuses(first) == _statuses(second)
    status = fleetkit("persist", "status", env=keeper.env)
    assert status.returncode == 0
    for host in addresses:
        assert re.search(rf"^{host}\s", status.stdout, re.M), status.stdout


def test_killed_connection_is_reopened_within_the_run(lab: LabState, keeper: KeeperEnv) -> None:
    assert keeper.exec("true").returncode == 0
    host, address = sorted(_addresses(lab).items())[-1]
    (port,) = keeper.ports(address)
    netns = next(h.netns for h in lab.hosts if h.name == host)
    # The per-connection sshd processes of that one connection (not the listening sshd).
    found = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            netns,
            "ss",
            "-tnpH",
            "state",
            "established",
            f"( sport = :22 and dport = :{port} )",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pids = {int(p) for p in re.findall(r"pid=(\d+)", found)}
    assert pids, found
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    again = keeper.exec("echo back")
    assert again.returncode == 0, again.stderr
    assert _statuses(again)[host] == ("ok", 0)
    assert keeper.ports(address) and keeper.ports(address) != {port}


def _busy(keeper: KeeperEnv) -> bool:
    reply = keeper_request("status", keeper.socket)
    return reply is not None and any(row["channels"] for row in reply["held"])


def test_keeper_killed_mid_run_is_a_clear_error_then_the_next_run_works(
    keeper: KeeperEnv,
) -> None:
    assert keeper.exec("true").returncode == 0
    run = subprocess.Popen(
        [*FLEETKIT, "exec", "all", "-i", keeper.inventory, "--", "sleep 2; echo done"],
        env=keeper.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not _busy(keeper):  # the commands are running on the keeper's connections
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.05)
    os.kill(keeper.pid(), signal.SIGKILL)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 3, (out, err)  # unreachable: never a wrong "ok" or a traceback
    assert "connection keeper went away" in out + err
    assert "Traceback" not in err
    after = keeper.exec("echo fresh")
    assert after.returncode == 0, after.stderr
    assert all(s == ("ok", 0) for s in _statuses(after).values())


def test_changed_user_opens_a_new_connection(
    lab: LabState, keeper: KeeperEnv, tmp_path: Path
) -> None:
    assert keeper.exec("true").returncode == 0
    assert lab.inventory is not None
    data = yaml.safe_load(lab.inventory.read_text())
    for name in ("user", "ansible_user"):  # whichever spelling the lab inventory uses
        data["all"]["vars"][name] = "nosuchuser"
    changed = tmp_path / "hosts.yml"
    changed.write_text(yaml.safe_dump(data))
    # A reused connection would log in as fleet and succeed; a new one fails to log in.
    other = keeper.exec("whoami", inventory=str(changed))
    assert other.returncode == 3, other.stdout
    assert {s for s, _ in _statuses(other).values()} == {"unreachable"}
    direct = fleetkit(
        "exec",
        "all",
        "-i",
        str(changed),
        "--json",
        "--",
        "whoami",
        env={**keeper.env, "FLEETKIT_PERSIST": "no"},
    )
    assert (direct.returncode, _statuses(direct)) == (other.returncode, _statuses(other))
    same = keeper.exec("whoami")
    assert {e["stdout"].strip() for e in json_events(same.stdout) if "stdout" in e} == {"fleet"}


def test_another_uid_cannot_use_the_socket(keeper: KeeperEnv) -> None:
    assert keeper.exec("true").returncode == 0
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n    s.connect(sys.argv[1])\nexcept OSError as e:\n    print(type(e).__name__)\n"
        "else:\n    print('connected')\n"
    )
    out = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            probe,
            str(keeper.socket),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip() == "PermissionError"


def test_a_kept_host_answers_while_its_sshd_listener_is_frozen(
    lab: LabState, keeper: KeeperEnv, tmp_path: Path
) -> None:
    """SIGSTOP on a host's listening sshd stops new logins only: an established SSH
    connection is served by its own sshd process, so the kept one still runs commands
    (as an OpenSSH ControlMaster's connection does, and as a session already open on a
    real host does), while a direct run cannot log in and finds the host unreachable."""
    assert lab.inventory is not None
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"]["ansible_ssh_timeout"] = 3
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump(data))
    assert keeper.exec("true", inventory=str(inv)).returncode == 0
    host = lab.hosts[0].name
    with frozen(host, listener=True, sessions=False):
        warm = keeper.exec("hostname", inventory=str(inv))
        direct = fleetkit(
            "exec",
            "all",
            "-i",
            str(inv),
            "--json",
            "--",
            "hostname",
            env={**keeper.env, "FLEETKIT_PERSIST": "no"},
        )
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert set(_statuses(warm).values()) == {("ok", 0)}
    assert direct.returncode == 3, direct.stdout
    assert _statuses(direct)[host][0] == "unreachable"
