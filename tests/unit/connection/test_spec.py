"""Connection variables: Ansible's names only (fleetkit_* for the rest), validation, jumps."""

from __future__ import annotations

import pytest

from fleetkit.connection.base import become_wrap
from fleetkit.connection.factory import ConnectionFactory, parse_jump
from fleetkit.connection.local import LocalConnection
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.errors import InventoryError

pytestmark = pytest.mark.unit


def test_ansible_names_set_the_connection() -> None:
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


def test_short_names_are_user_variables_never_connection_settings() -> None:
    user_vars = {"address": "0.0.0.0", "port": 5432, "user": "postgres", "ssh_key": "/k"}
    spec = ConnectionSpec.from_vars("db1", {**user_vars, "ansible_host": "192.0.2.10"})
    assert (spec.address, spec.port, spec.user, spec.ssh_key) == ("192.0.2.10", None, None, None)
    bare = ConnectionSpec.from_vars("db1", {"jump": "x@y", "ssh_known_hosts": "/kh"})
    assert (bare.jump, bare.known_hosts) == (None, None)


def test_fleetkit_only_settings_have_fleetkit_prefixed_names() -> None:
    spec = ConnectionSpec.from_vars(
        "h",
        {
            "fleetkit_known_hosts": "/kh",
            "fleetkit_host_key_policy": "accept-new",
            "fleetkit_jump": "ops@bastion:22",
            "ansible_ssh_timeout": 3,
        },
    )
    assert (spec.known_hosts, spec.host_key_policy, spec.jump) == (
        "/kh",
        "accept-new",
        "ops@bastion:22",
    )
    assert spec.connect_timeout == 3


def test_ssh_args_carry_known_hosts_policy_and_jump_as_with_ansible() -> None:
    args = "-o UserKnownHostsFile=/kh -o StrictHostKeyChecking=accept-new -J ops@bastion"
    spec = ConnectionSpec.from_vars("h", {"ansible_ssh_common_args": args})
    assert (spec.known_hosts, spec.host_key_policy, spec.jump) == (
        "/kh",
        "accept-new",
        "ops@bastion",
    )
    extra = ConnectionSpec.from_vars("h", {"ansible_ssh_extra_args": "-oProxyJump=b:2200"})
    assert extra.jump == "b:2200"


def test_old_short_names_earn_one_warning_naming_the_renames() -> None:
    from fleetkit.connection.spec import legacy_warning

    hosts = {"a": {"address": "x", "user": "u"}, "b": {"address": "y", "ansible_user": "v"}}
    warning = legacy_warning(hosts)
    assert warning is not None
    assert "address -> ansible_host" in warning and "user -> ansible_user" in warning
    assert legacy_warning({"a": {"address": "x", "ansible_host": "y"}}) is None


def test_address_defaults_to_the_host_name_and_policy_to_verify() -> None:
    spec = ConnectionSpec.from_vars("db1.example.com", {})
    assert spec.address == "db1.example.com"
    assert spec.host_key_policy == "verify"
    assert spec.port is None


@pytest.mark.parametrize(
    ("hostvars", "needle"),
    [
        ({"ansible_port": "ssh"}, "port must be a number"),
        ({"fleetkit_host_key_policy": "accept-all"}, "fleetkit_host_key_policy must be one of"),
        ({"ansible_ssh_timeout": "soon"}, "ansible_ssh_timeout must be a number"),
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


def test_a_host_setting_beats_a_group_setting(tmp_path: object) -> None:
    from pathlib import Path

    from fleetkit.inventory.load import load_inventory

    assert isinstance(tmp_path, Path)
    inv_file = tmp_path / "hosts.yml"
    inv_file.write_text(
        "all:\n  vars:\n    ansible_user: deploy\n"
        "  hosts:\n    a:\n      ansible_user: root\n    b:\n"
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


def test_an_extra_var_beats_the_inventory() -> None:
    inventory = {"ansible_user": "deploy", "ansible_host": "a"}
    spec = ConnectionSpec.for_host("h", inventory, {"ansible_user": "root", "ansible_port": "2200"})
    assert (spec.user, spec.address, spec.port) == ("root", "a", 2200)
    assert ConnectionSpec.for_host("h", inventory).user == "deploy"
    assert ConnectionSpec.for_host("h", inventory, {"port": "2200"}).port is None
