"""Bad values are exit 2 with file:line and nothing run, never a traceback or a silently
different meaning: huge host ranges and integers, bad patterns, ports, timeouts, jumps."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from tests.support import fleetkit

from fleetkit.cli.common import Seconds
from fleetkit.connection.spec import ConnectionSpec, parse_jump
from fleetkit.errors import InventoryError, PatternError, UsageError
from fleetkit.inventory.extra_vars import parse_extra_vars
from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.select import select_hosts

pytestmark = pytest.mark.unit

HUGE = "1" * 5000


def ini(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hosts.ini"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "entry", ["w[1:100000000000000000000000]", "w[1:5:100000000000000000000000]", f"w[1:{HUGE}]"]
)
def test_a_host_range_with_a_huge_bound_is_an_error_at_its_line(tmp_path: Path, entry: str) -> None:
    with pytest.raises(InventoryError, match="host range") as err:
        load_inventory(ini(tmp_path, f"[web]\n{entry}\n"))
    assert str(err.value.position).endswith("hosts.ini:2")


def test_a_zero_padded_range_is_still_fine(tmp_path: Path) -> None:
    inv = load_inventory(
        ini(tmp_path, "[web]\nw[00000000000000000000001:00000000000000000000003]\n")
    )
    assert len(inv.hosts) == 3


@pytest.mark.parametrize(
    "line", [f"w1 x={HUGE}", f"w1 x=[-{HUGE}]", f"w1 x=0x{'f' * 5000}", f"w1 port={HUGE}"]
)
def test_a_huge_integer_in_ini_is_an_error_at_its_line(tmp_path: Path, line: str) -> None:
    with pytest.raises(InventoryError, match="4000 digits") as err:
        load_inventory(ini(tmp_path, f"[web]\n{line}\n"))
    assert str(err.value.position).endswith("hosts.ini:2")


def test_a_huge_port_in_a_host_entry_is_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="out of range"):
        load_inventory(ini(tmp_path, f"[web]\nw1:{HUGE}\n"))


def test_a_huge_integer_in_extra_vars_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="too large"):
        parse_extra_vars([f"x={HUGE}"], tmp_path)
    with pytest.raises(UsageError, match="too large"):
        parse_extra_vars([f"{{x: {HUGE}}}"], tmp_path)
    assert parse_extra_vars(["x=12 y=-3"], tmp_path) == {"x": 12, "y": -3}


@pytest.fixture
def web(tmp_path: Path) -> Path:
    return ini(tmp_path, "[web]\nw1\nw2\nw3\n")


@pytest.mark.parametrize("limit", ["~[", "web]", "w1:~[x", "web[0"])
def test_a_malformed_pattern_selects_nothing_and_says_why(web: Path, limit: str) -> None:
    inv = load_inventory(web)
    with pytest.raises(PatternError):
        select_hosts(inv, "all", limit)


def test_a_huge_index_or_slice_is_a_pattern_error(web: Path) -> None:
    inv = load_inventory(web)
    for limit in (f"web[{HUGE}]", f"web[0:{HUGE}]", "web[100000000000000000000000]"):
        with pytest.raises(PatternError):
            select_hosts(inv, "all", limit)
    assert select_hosts(inv, "all", "web[1:]") == ("w2", "w3")


@pytest.mark.parametrize("port", [99999, -1, 0, 65536, "22x", HUGE, True, 2.5])
def test_a_port_outside_1_to_65535_is_refused_naming_host_and_variable(port: object) -> None:
    with pytest.raises(InventoryError, match="host h1: ansible_port: port must be a number from 1"):
        ConnectionSpec.from_vars("h1", {"ansible_port": port})
    assert ConnectionSpec.from_vars("h1", {"ansible_port": "2222"}).port == 2222
    assert ConnectionSpec.from_vars("h1", {"ansible_port": 22.0}).port == 22


@pytest.mark.parametrize("timeout", [-1, 0, "nan", math.nan, math.inf, "-inf", "x", True])
def test_connect_timeout_must_be_finite_and_positive(timeout: object) -> None:
    with pytest.raises(InventoryError, match="host h1: ansible_ssh_timeout must be a number"):
        ConnectionSpec.from_vars("h1", {"ansible_ssh_timeout": timeout})
    assert ConnectionSpec.from_vars("h1", {"ansible_timeout": "2.5"}).connect_timeout == 2.5


@pytest.mark.parametrize("jump", ["bad@:x", "@host", "ops@bastion:", "[fe80::1", "[::1]x", "b:0"])
def test_a_malformed_jump_is_refused_when_the_spec_is_built(jump: str) -> None:
    with pytest.raises(InventoryError, match=r"host h1: fleetkit_jump"):
        ConnectionSpec.from_vars("h1", {"fleetkit_jump": jump})
    assert parse_jump("ops@bastion:2200") == ("ops", "bastion", 2200)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "abc", "0.05"])
def test_the_seconds_type_refuses_what_is_not_a_finite_duration(value: str) -> None:
    import click

    with pytest.raises(click.BadParameter):
        Seconds(0.1, inclusive=True).convert(value, None, None)
    assert Seconds(0).convert("0.5", None, None) == 0.5
    assert Seconds(0.1, inclusive=True).convert("0.1", None, None) == 0.1


def test_cli_timeout_nan_exits_2(web: Path) -> None:
    for args in (
        ["exec", "all", "-i", str(web), "--timeout", "nan", "--", "true"],
        ["health", "-i", str(web), "--timeout", "nan"],
        ["exporter", "-i", str(web), "--once", "--timeout", "inf"],
    ):
        done = fleetkit(*args, timeout=30)
        assert done.returncode == 2, done.stderr
        assert "--timeout" in done.stderr and "Traceback" not in done.stderr


def test_cli_bad_port_or_jump_exits_2_before_connecting(tmp_path: Path) -> None:
    for var in ("ansible_port=99999", "fleetkit_jump=bad@:x"):
        path = ini(tmp_path, f"[web]\nw1 ansible_host=127.0.0.1 {var}\n")
        done = fleetkit("exec", "all", "-i", str(path), "--", "true", timeout=30)
        assert done.returncode == 2, (var, done.stdout, done.stderr)
        assert "host w1" in done.stderr and "Traceback" not in done.stderr
        assert "unreachable" not in done.stdout
