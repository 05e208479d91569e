"""System modules on real lab hosts: systemd over the daemonless systemctl, setup,
wait_for_connection, docker_network/docker_image/docker_container on each host's dockerd.

One playbook runs twice (the second run changes nothing); testinfra then checks
the hosts over plain ssh, and a cleanup playbook plus a final check remove and
verify the removal of everything the test made (unit files, container, network).
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra
from tests.support import fleetkit, json_events

from fleetkit.lab.model import LabState

pytestmark = pytest.mark.integration

UNIT = "fk-sysmod"
MASKED = "fk-sysmod-mask"
NET = "fk-sysmod-net"
WEB = "fk-sysmod-web"
IMAGE = "198.18.0.1:5000/fleetkit/web:v1"

PLAYBOOK = f"""
- hosts: workers
  become: true
  gather_facts: false
  tasks:
    - ansible.builtin.setup: {{gather_subset: ["!all", "network"]}}
    - ansible.builtin.copy:
        dest: /etc/systemd/system/{UNIT}.service
        content: |
          [Unit]
          Description=fleetkit system modules test
          [Service]
          ExecStart=/bin/sleep 3600
          [Install]
          WantedBy=multi-user.target
    - ansible.builtin.file: {{path: /run/systemd/system, state: directory}}
    - ansible.builtin.copy:
        dest: /run/systemd/system/{MASKED}.service
        content: "[Service]\\nExecStart=/bin/sleep 3600\\n"
    - ansible.builtin.systemd_service:
        name: {UNIT}
        state: started
        enabled: true
        daemon_reload: "{{{{ first_run | default(false) }}}}"
    - ansible.builtin.systemd: {{name: {MASKED}, masked: true}}
    - ansible.builtin.wait_for_connection: {{timeout: 20}}
    - community.docker.docker_network: {{name: {NET}}}
    - community.docker.docker_image: {{name: "198.18.0.1:5000/fleetkit/web", tag: v1}}
    - community.docker.docker_container:
        name: {WEB}
        image: {IMAGE}
        network_mode: {NET}
        env: {{FK_HOST: "{{{{ ansible_hostname }}}}", FK_FAMILY: "{{{{ ansible_os_family }}}}"}}
      register: web
    - ansible.builtin.assert:
        that:
          - web.container.State.Running
          - ansible_facts.default_ipv4 is defined
          - ansible_all_ipv4_addresses | length > 0
"""

CLEANUP = f"""
- hosts: workers
  become: true
  gather_facts: false
  tasks:
    - community.docker.docker_container: {{name: {WEB}, state: absent}}
    - community.docker.docker_network: {{name: {NET}, state: absent}}
    - ansible.builtin.systemd: {{name: {UNIT}, state: stopped, enabled: false}}
      ignore_errors: true  # the unit is gone when the teardown runs after the cleanup test
    - ansible.builtin.systemd: {{name: {MASKED}, masked: false}}
      ignore_errors: true
    - ansible.builtin.file: {{path: "{{{{ item }}}}", state: absent}}
      loop: [/etc/systemd/system/{UNIT}.service, /run/systemd/system/{MASKED}.service]
    - ansible.builtin.shell: >-
        [ ! -d /run/systemd/system ] || rmdir --ignore-fail-on-non-empty /run/systemd/system
"""


def counts(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, int]]:
    evts = json_events(proc.stdout)
    assert evts and evts[-1]["event"] == "summary", proc.stdout[-2000:] + proc.stderr[-2000:]
    hosts: dict[str, dict[str, int]] = evts[-1]["hosts"]
    return hosts


@pytest.fixture(scope="module")
def hosts(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    config = tmp_path_factory.mktemp("ssh") / "config"
    config.write_text(
        "".join(
            f"Host {h.name}\n  HostName {h.address}\n  User fleet\n  IdentityFile {lab.key}\n"
            f"  IdentitiesOnly yes\n  UserKnownHostsFile {lab.known_hosts}\n"
            "  StrictHostKeyChecking yes\n  BatchMode yes\n"
            for h in lab.hosts
        )
    )
    return {
        h.name: testinfra.get_host(f"ssh://{h.name}", ssh_config=str(config), sudo=True)
        for h in lab.hosts
        if h.name in ("lab2", "lab3")
    }


@pytest.fixture(scope="module")
def books(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    assert lab.inventory is not None
    where = tmp_path_factory.mktemp("sysmod")
    (where / "site.yml").write_text(textwrap.dedent(PLAYBOOK))
    (where / "cleanup.yml").write_text(textwrap.dedent(CLEANUP))
    paths = {"inv": str(lab.inventory), "site": str(where / "site.yml")}
    yield paths
    proc = fleetkit("run", str(where / "cleanup.yml"), "-i", paths["inv"], "--json", timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_system_modules_converge_then_change_nothing(
    books: dict[str, str], hosts: dict[str, Any]
) -> None:
    first = fleetkit(
        "run", books["site"], "-i", books["inv"], "-e", "first_run=true", "--json", timeout=240
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert all(c["changed"] >= 5 for c in counts(first).values()), counts(first)
    second = fleetkit("run", books["site"], "-i", books["inv"], "--json", timeout=240)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    assert {h: c["changed"] for h, c in counts(second).items()} == {"lab2": 0, "lab3": 0}

    for name, host in hosts.items():
        assert host.run(f"systemctl is-active {UNIT}").stdout.strip() == "active"
        assert host.run(f"systemctl is-enabled {UNIT}").stdout.strip() == "enabled"
        assert host.file(f"/etc/systemd/system/{MASKED}.service").linked_to == "/dev/null"
        inspect = host.run(
            "docker inspect -f '{{.State.Running}} {{.HostConfig.NetworkMode}} "
            "{{range .Config.Env}}{{.}},{{end}}' " + WEB
        )
        assert inspect.rc == 0, inspect.stderr
        running, network, env = inspect.stdout.split(" ", 2)
        assert (running, network) == ("true", NET)
        assert f"FK_HOST={name}," in env and "FK_FAMILY=Debian," in env
        assert host.run(f"docker network inspect {NET}").rc == 0


def test_cleanup_leaves_nothing_behind(books: dict[str, str], hosts: dict[str, Any]) -> None:
    cleanup = Path(books["site"]).with_name("cleanup.yml")
    proc = fleetkit("run", str(cleanup), "-i", books["inv"], "--json", timeout=180)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for host in hosts.values():
        assert host.run(f"docker inspect {WEB}").rc != 0
        assert host.run(f"docker network inspect {NET}").rc != 0
        assert not host.file(f"/etc/systemd/system/{UNIT}.service").exists
        assert not host.file(f"/etc/systemd/system/{MASKED}.service").exists
        assert host.run(f"systemctl is-active {UNIT}").stdout.strip() != "active"
