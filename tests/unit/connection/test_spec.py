"""Connection variables: fleetkit names, Ansible aliases, validation, jump parsing."""

from __future__ import annotations

import pytest

from fleetkit.connection.base import become_wrap
from fleetkit.connection.factory import ConnectionFactory, parse_jump
from fleetkit.connection.local import LocalConnection
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import InventoryError

pytestmark = pytest.mark.unit


def test_ansible_names_are_accepted_as_aliases() -> None:
    spec = ConnectionSpec.from_vars(
        "web1",
        {
            "ansible_host": "10.0.0.5",
            "ansible_port": "2222",
            "ansible_user": "deploy",
            "ansible_ssh_private_key_file": "~/.ssh/id",
            "ansible_become": "yes",
        },
    )
    assert (spec.address, spec.port, spec.user, spec.ssh_key, spec.become) == (
        "10.0.0.5",
        2222,
        "deploy",
        "~/.ssh/id",
        True,
    )


def test_fleetkit_names_win_over_aliases() -> None:
    spec = ConnectionSpec.from_vars(
        "h", {"address": "a", "ansible_host": "b", "user": "u", "ansible_user": "v"}
    )
    assert spec.address == "a" and spec.user == "u"


def test_address_defaults_to_the_host_name_and_policy_to_verify() -> None:
    spec = ConnectionSpec.from_vars("db1.example.com", {})
    assert spec.address == "db1.example.com"
    assert spec.host_key_policy == "verify"
    assert spec.port is None


@pytest.mark.parametrize(
    ("hostvars", "needle"),
    [
        ({"port": "ssh"}, "port must be a number"),
        ({"host_key_policy": "accept-all"}, "host_key_policy must be one of"),
        ({"connect_timeout": "soon"}, "connect_timeout must be a number"),
        ({"ansible_connection": "winrm"}, "not supported"),
    ],
)
def test_bad_connection_values_are_inventory_errors(hostvars: dict[str, str], needle: str) -> None:
    with pytest.raises(InventoryError, match=needle):
        ConnectionSpec.from_vars("h", hostvars)


@pytest.mark.parametrize(
    ("jump", "expected"),
    [
        ("bastion", (None, "bastion", None)),
        ("ops@bastion", ("ops", "bastion", None)),
        ("ops@bastion:2200", ("ops", "bastion", 2200)),
        ("[fe80::1]:22", (None, "fe80::1", 22)),
    ],
)
def test_jump_strings_parse_like_proxyjump(
    jump: str, expected: tuple[str | None, str, int | None]
) -> None:
    assert parse_jump(jump) == expected


def test_local_connection_is_chosen_for_connection_local() -> None:
    spec = ConnectionSpec.from_vars("localhost", {"ansible_connection": "local"})
    conn = ConnectionFactory({"localhost": spec})("localhost")
    assert isinstance(conn, LocalConnection)
    result = conn.run("echo $((1+2))")
    assert (result.rc, result.stdout) == (0, "3\n")


def test_local_connection_timeout_kills_the_command() -> None:
    conn = LocalConnection("localhost")
    result = conn.run("sleep 5", timeout=0.2)
    assert result.timed_out and result.rc is None


def test_become_wraps_in_noninteractive_sudo_with_quoting() -> None:
    wrapped = become_wrap("echo 'a b'")
    assert wrapped.startswith("sudo -n -H -- /bin/sh -c ")
    assert "'\"'\"'" in wrapped


def test_an_alias_on_a_host_beats_fleetkit_name_on_a_group(tmp_path: object) -> None:
    from pathlib import Path

    from fleetkit.inventory.load import load_inventory

    assert isinstance(tmp_path, Path)
    inv_file = tmp_path / "hosts.yml"
    inv_file.write_text(
        "all:\n  vars:\n    user: deploy\n  hosts:\n    a:\n      ansible_user: root\n    b:\n"
    )
    inv = load_inventory(inv_file)
    assert ConnectionSpec.from_vars("a", inv.hosts["a"].vars).user == "root"
    assert ConnectionSpec.from_vars("b", inv.hosts["b"].vars).user == "deploy"


def test_closing_a_local_connection_kills_its_running_commands() -> None:
    import threading
    import time

    conn = LocalConnection("localhost")
    results = []
    worker = threading.Thread(target=lambda: results.append(conn.run("sleep 30")))
    worker.start()
    time.sleep(0.3)
    start = time.monotonic()
    conn.close()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - start < 5
    assert results[0].rc != 0


def test_an_alias_given_as_an_extra_var_beats_fleetkit_name_in_the_inventory() -> None:
    spec = ConnectionSpec.for_host(
        "h", {"user": "deploy", "address": "a"}, {"ansible_user": "root", "port": "2200"}
    )
    assert (spec.user, spec.address, spec.port) == ("root", "a", 2200)
    assert ConnectionSpec.for_host("h", {"user": "deploy"}).user == "deploy"
