"""inventory/example (the production layout shown to users) loads and means what it says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetkit.cli import main
from fleetkit.connection.spec import ConnectionSpec
from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.select import select_hosts

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[3] / "inventory" / "example"


def test_example_has_the_documented_groups() -> None:
    inv = load_inventory(EXAMPLE)
    for group in ("webservers", "dbservers", "managers", "workers"):
        assert inv.group_hosts(group), group
    assert select_hosts(inv, "swarm") == select_hosts(inv, "managers:workers")
    assert select_hosts(inv, "workers[0:1]") == ("worker01.example.com", "worker02.example.com")


def test_example_layers_group_vars_and_host_vars() -> None:
    inv = load_inventory(EXAMPLE)
    web1 = inv.hosts["web1.example.com"].vars
    web2 = inv.hosts["web2.example.com"].vars
    assert (web1["ansible_user"], web1["ansible_become"]) == ("deploy", True)  # group_vars/all
    assert web2["http_port"] == 8080  # group_vars/webservers.yml
    assert (web1["http_port"], web1["ansible_port"]) == (8081, 2201)  # host_vars/ wins
    assert inv.hosts["db2.example.com"].vars["ansible_port"] == 2222  # host:port in hosts.yml
    assert not inv.warnings  # the example uses no old short names


def test_example_connection_vars_are_ansible_names() -> None:
    inv = load_inventory(EXAMPLE)
    spec = ConnectionSpec.from_vars("web3.example.com", inv.hosts["web3.example.com"].vars)
    assert (spec.address, spec.user) == ("192.0.2.13", "deploy")
    web1 = ConnectionSpec.from_vars("web1.example.com", inv.hosts["web1.example.com"].vars)
    assert (web1.address, web1.port, web1.jump) == (
        "192.0.2.11",
        2201,
        "ops@bastion.example.com:22",
    )


def test_example_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "-i", str(EXAMPLE), "--host", "web1.example.com"]) == 0
    assert json.loads(capsys.readouterr().out)["fleetkit_jump"] == "ops@bastion.example.com:22"
