"""sysctl: file entry and running value, each changed only when it differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx
from tests.unit.modules.intercept import InterceptingConnection

from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit


class Kernel:
    """The running sysctl values, as `sysctl -n/-w/-p` see them."""

    def __init__(self, **values: str) -> None:
        self.values = {k.replace("_", "."): v for k, v in values.items()}

    def conn(self) -> InterceptingConnection:
        return InterceptingConnection({r"^sysctl ": self.sysctl})

    def sysctl(self, command: str, stdin: bytes | None) -> tuple[int, str, str]:
        words = command.replace("'", "").split()
        if words[1] == "-n":
            if words[2] not in self.values:
                return 255, "", f"sysctl: cannot stat /proc/sys/{words[2]}: No such file"
            return 0, self.values[words[2]] + "\n", ""
        if words[1] == "-w":
            key, _, value = words[2].partition("=")
            self.values[key] = value
            return 0, "", ""
        for line in Path(words[2]).read_text().splitlines():
            key, _, value = line.partition("=")
            self.values[key.strip()] = value.strip()
        return 0, "", ""


def run(conn: InterceptingConnection, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.posix.sysctl")
    assert mod is not None
    return mod.run(make_ctx("sysctl", args, conn, check=check, diff=True))


def test_entry_written_and_reloaded_then_ok(tmp_path: Path) -> None:
    kernel = Kernel(net_core_somaxconn="4096")
    conf = tmp_path / "90-fk.conf"
    args = {"name": "net.core.somaxconn", "value": "8192", "sysctl_file": str(conf)}
    first = run(kernel.conn(), **args)
    assert first.changed and "+net.core.somaxconn=8192" in first.diff
    assert conf.read_text() == "net.core.somaxconn=8192\n"
    assert kernel.values["net.core.somaxconn"] == "8192"
    assert not run(kernel.conn(), **args).changed


def test_running_value_fixed_even_when_the_file_is_right(tmp_path: Path) -> None:
    kernel = Kernel(net_core_somaxconn="4096")
    conf = tmp_path / "s.conf"
    conf.write_text("# tuned\nnet.core.somaxconn = 8192\n")
    conn = kernel.conn()
    res = run(conn, name="net.core.somaxconn", value="8192", sysctl_file=str(conf), sysctl_set=True)
    assert res.changed and "4096 -> 8192" in res.msg
    assert conn.intercepted[-1] == "sysctl -w net.core.somaxconn=8192"
    assert conf.read_text() == "# tuned\nnet.core.somaxconn = 8192\n"


def test_whitespace_in_values_is_not_a_change(tmp_path: Path) -> None:
    kernel = Kernel(net_ipv4_ip_local_port_range="32768\t60999")
    conf = tmp_path / "s.conf"
    conf.write_text("net.ipv4.ip_local_port_range=32768 60999\n")
    res = run(
        kernel.conn(),
        name="net.ipv4.ip_local_port_range",
        value="32768  60999",
        sysctl_file=str(conf),
    )
    assert not res.changed


def test_check_mode_and_absent(tmp_path: Path) -> None:
    kernel = Kernel(net_core_somaxconn="4096")
    conf = tmp_path / "s.conf"
    conf.write_text("net.core.somaxconn=8192\nvm.x=1\n")
    res = run(
        kernel.conn(), check=True, name="net.core.somaxconn", value="1", sysctl_file=str(conf)
    )
    assert res.changed and kernel.values["net.core.somaxconn"] == "4096"
    assert conf.read_text() == "net.core.somaxconn=8192\nvm.x=1\n"
    res = run(kernel.conn(), name="net.core.somaxconn", state="absent", sysctl_file=str(conf))
    assert res.changed and conf.read_text() == "vm.x=1\n"


def test_unknown_key_fails_unless_ignored(tmp_path: Path) -> None:
    conf = tmp_path / "s.conf"
    res = run(Kernel().conn(), name="net.nope", value="1", sysctl_file=str(conf))
    assert res.failed and "does not exist" in res.msg and not conf.exists()


def test_present_needs_a_value() -> None:
    mod = lookup("sysctl")
    assert mod is not None
    assert prepare(mod, {"name": "vm.swappiness"})[1] == [
        "module sysctl: state=present needs value"
    ]
