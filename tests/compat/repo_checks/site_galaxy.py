"""site_galaxy: ansible.cfg, playbook group_vars/host_vars, dotted Galaxy roles with specs."""

from __future__ import annotations

import json
from typing import Any

from tests.compat.repo_checks.footprint import Footprint

FOOTPRINT = Footprint(
    made=(
        "/srv/fkrepo/site_galaxy",
        "/opt/fkr-sg-shop",
        "/etc/sudoers.d/acme-users",
        "/etc/systemd/system/fkr-sg-shop.service",
    ),
    users=("fkr_sg_alice", "fkr_sg_bob", "fkr_sg_retired", "fkr-sg-shop"),
    groups=("fkr_sg_admins", "fkr_sg_deploy", "fkr_sg_retired", "fkr-sg-shop"),
    units=("fkr-sg-shop.service",),
    # A user the inventory retires (state: absent) exists on the hosts beforehand.
    prepare="mkdir -p /srv/fkrepo/site_galaxy/home && useradd -m -d"
    " /srv/fkrepo/site_galaxy/home/fkr_sg_retired -s /bin/sh fkr_sg_retired",
)


def test_precedence(host: Any) -> None:
    got = host.file("/srv/fkrepo/site_galaxy/precedence").content_string.split()
    # inventory group_vars/production beats playbook group_vars/all; playbook
    # group_vars/web beats inventory group_vars/production; playbook all beats inventory all.
    assert got == [
        "env=production",
        "owner=platform-team",
        "tier=web",
        "region=eu-west",
        "groups=production,web",
    ]


def test_users(host: Any) -> None:
    alice = host.user("fkr_sg_alice")
    assert alice.uid == 24111
    assert alice.shell == "/bin/bash"
    assert alice.home == "/srv/fkrepo/site_galaxy/home/fkr_sg_alice"
    assert "fkr_sg_admins" in alice.groups
    assert set(host.user("fkr_sg_bob").groups) >= {"fkr_sg_admins", "fkr_sg_deploy"}
    assert not host.user("fkr_sg_retired").exists
    assert not host.file("/srv/fkrepo/site_galaxy/home/fkr_sg_retired").exists
    keys = host.file("/srv/fkrepo/site_galaxy/home/fkr_sg_alice/.ssh/authorized_keys")
    assert keys.mode == 0o600
    assert "alice@laptop" in keys.content_string


def test_sudoers(host: Any) -> None:
    sudoers = host.file("/etc/sudoers.d/acme-users")
    assert sudoers.mode == 0o440
    assert "fkr_sg_alice ALL=(ALL) NOPASSWD: ALL" in sudoers.content_string
    assert "fkr_sg_bob" not in sudoers.content_string
    assert host.run("visudo -cf /etc/sudoers.d/acme-users").rc == 0


def test_app(host: Any) -> None:
    config = json.loads(host.file("/opt/fkr-sg-shop/etc/config.json").content_string)
    assert config["listen"] == "127.0.0.1:8080"
    assert config["workers"] == 5
    assert config["labels"] == {"rack": "r12", "tier": "web", "env": "production"}
    assert config["os"] == "Debian 12"
    assert host.file("/opt/fkr-sg-shop/etc").mode == 0o750
    assert host.file("/opt/fkr-sg-shop/data").user == "fkr-sg-shop"
    assert host.user("fkr-sg-shop").shell == "/usr/sbin/nologin"
    unit = host.service("fkr-sg-shop")
    assert unit.is_enabled
    assert unit.is_running
