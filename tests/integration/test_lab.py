"""The lab: real SSH hosts in namespaces, isolated from each other and from the machine."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
import testinfra
import yaml

from fleetkit.errors import LabError
from fleetkit.lab import LabHost, LabState, checks, lab_down, lab_status, lab_up, procs
from fleetkit.lab.down import leftovers
from fleetkit.lab.hostfs import read_only_dirs
from fleetkit.lab.inventory_writer import inventory_data
from fleetkit.lab.layout import LabPaths, host_address, host_specs

pytestmark = pytest.mark.integration


# --- helpers ---------------------------------------------------------------------------


def ssh(state: LabState, host: LabHost, command: str) -> subprocess.CompletedProcess[str]:
    """Run command on host with the OpenSSH client, verifying its key strictly."""
    argv = [
        "ssh", "-F", "/dev/null",
        "-i", str(state.key),
        "-o", "IdentitiesOnly=yes",
        "-o", f"UserKnownHostsFile={state.known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes",
        "-o", "ConnectTimeout=5",
        f"fleet@{host.address}", command,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def ssh_ok(state: LabState, host: LabHost, command: str) -> str:
    """stdout of command on host; fails the test if it exits non-zero."""
    proc = ssh(state, host, command)
    assert proc.returncode == 0, f"{host.name}: {command!r}: {proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def ssh_config(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ssh_config for testinfra's ssh backend: lab key, lab known_hosts, strict checking."""
    path = tmp_path_factory.mktemp("ssh") / "config"
    path.write_text(
        "Host *\n"
        "  User fleet\n"
        f"  IdentityFile {lab.key}\n"
        "  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {lab.known_hosts}\n"
        "  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n"
        "  BatchMode yes\n"
    )
    return path


def infra(ssh_config: Path, host: LabHost) -> Any:
    """A testinfra host for a lab host (ssh backend, no lingering control master)."""
    return testinfra.get_host(
        f"ssh://fleet@{host.address}", ssh_config=str(ssh_config), controlpersist=0
    )


# --- hosts are hosts of their own ------------------------------------------------------


def test_each_host_reports_its_own_hostname(lab: LabState) -> None:
    for host in lab.hosts:
        assert ssh_ok(lab, host, "hostname").strip() == host.name
        assert ssh_ok(lab, host, "cat /etc/hostname").strip() == host.name


def test_host_keys_verify_against_the_written_known_hosts(lab: LabState) -> None:
    known = paramiko.HostKeys(str(lab.known_hosts))
    assert sorted(known.keys()) == sorted(h.address for h in lab.hosts)
    for host in lab.hosts:
        client = paramiko.SSHClient()
        client.load_host_keys(str(lab.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                host.address, username="fleet", key_filename=str(lab.key),
                look_for_keys=False, allow_agent=False, timeout=5,
            )  # fmt: skip
            transport = client.get_transport()
            assert transport is not None
            served = transport.get_remote_server_key()
        finally:
            client.close()
        entry = known.lookup(host.address)
        assert entry is not None
        assert served.get_base64() == entry["ssh-ed25519"].get_base64()
    entries = [known.lookup(h.address) for h in lab.hosts]
    keys = {e["ssh-ed25519"].get_base64() for e in entries if e is not None}
    assert len(keys) == len(lab.hosts), "every host has its own host key"


@pytest.mark.parametrize("folder", ["/etc", "/usr/local/bin"])  # /usr: an overlay too
def test_a_file_written_to_a_system_folder_stays_on_its_host(lab: LabState, folder: str) -> None:
    one, other = lab.hosts[0], lab.hosts[1]
    probe = f"{folder}/fleetkit-probe-{uuid.uuid4().hex}"
    ssh_ok(lab, one, f"echo {one.name} | sudo -n tee {probe} >/dev/null")
    try:
        assert ssh_ok(lab, one, f"cat {probe}").strip() == one.name
        assert ssh(lab, other, f"test -e {probe}").returncode == 1
        assert not Path(probe).exists()
    finally:
        ssh_ok(lab, one, f"sudo -n rm -f {probe}")


def test_tmp_is_private_to_each_host(lab: LabState, ssh_config: Path) -> None:
    one, other = lab.hosts[0], lab.hosts[1]
    probe = f"/tmp/fleetkit-probe-{uuid.uuid4().hex}"
    ssh_ok(lab, one, f"touch {probe}")
    assert infra(ssh_config, one).file(probe).exists
    assert not infra(ssh_config, other).file(probe).exists
    assert not Path(probe).exists()
    tmp = infra(ssh_config, other).file("/tmp")
    assert tmp.mode == 0o1777


def test_lab_user_has_passwordless_sudo_and_a_plain_shell(lab: LabState, ssh_config: Path) -> None:
    for host in lab.hosts:
        h = infra(ssh_config, host)
        assert h.check_output("sudo -n id -u") == "0"
        user = h.user("fleet")
        assert user.shell == "/bin/sh"
        assert user.uid != 0
        assert h.file("/etc/sudoers.d/fleetkit-lab").mode == 0o440


def test_systemctl_manages_units_without_an_init(lab: LabState, ssh_config: Path) -> None:
    h = infra(ssh_config, lab.hosts[0])
    unit = (
        "[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/sleep 9876\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    with h.sudo():
        h.check_output(f"printf '{unit}' > /etc/systemd/system/fk-probe.service")
        try:
            # the daemonless systemctl reports "unknown" for units that are not enabled
            h.check_output("systemctl enable fk-probe && systemctl start fk-probe")
            assert h.run("systemctl is-active fk-probe").stdout.strip() == "active"
            assert h.process.filter(comm="sleep", args="/bin/sleep 9876")
            h.check_output("systemctl stop fk-probe")
            assert h.run("systemctl is-active fk-probe").stdout.strip() == "inactive"
        finally:
            h.run(
                "systemctl stop fk-probe; systemctl disable fk-probe;"
                " rm -f /etc/systemd/system/fk-probe.service"
            )


def test_hosts_reach_only_the_lab(lab: LabState) -> None:
    host = lab.hosts[-1]
    routes = ssh_ok(lab, host, "ip -4 route; ip -6 route")
    assert "default" not in routes
    assert ssh_ok(lab, host, "cat /etc/resolv.conf").count("nameserver") == 1
    assert "nameserver 198.18.0.1" in ssh_ok(lab, host, "cat /etc/resolv.conf")
    # Hosts reach each other over the bridge.
    first = lab.hosts[0]
    connect = f"import socket; socket.create_connection(('{first.address}', 22), 3)"
    assert ssh(lab, host, f'python3 -c "{connect}"').returncode == 0


def test_a_lab_host_holds_no_password_hash_of_the_machine(lab: LabState) -> None:
    shadow = ssh_ok(lab, lab.hosts[0], "sudo -n cat /etc/shadow")
    assert {line.split(":")[1] for line in shadow.splitlines()} <= {"*"}


def test_lab_state_is_hidden_inside_hosts(lab: LabState) -> None:
    out = ssh_ok(lab, lab.hosts[0], "sudo -n ls -A /var/lib/fleetkit")
    assert out.strip() == ""


@pytest.mark.parametrize("folder", ["/", *(f"/{d}/" for d in read_only_dirs())])
def test_the_machines_own_folders_are_read_only_on_a_host(lab: LabState, folder: str) -> None:
    """/ itself and the folders no host overlays (/work, /mnt ...): a playbook's write
    there fails on the host instead of landing on the machine."""
    probe = f"{folder}fk-probe-{uuid.uuid4().hex[:8]}"
    made = ssh(lab, lab.hosts[0], f"sudo -n mkdir {probe}")
    assert made.returncode != 0 and "Read-only file system" in made.stderr
    assert not Path(probe).exists()


def test_the_lab_key_is_out_of_reach_even_after_unmounting(lab: LabState) -> None:
    """A host's root unmounts the tmpfs over the state and the /var overlay itself (in a
    child mount namespace, so the host keeps its mounts): the key's folder is empty."""
    assert lab.key.is_file()
    secret = lab.key.parent
    out = ssh_ok(
        lab,
        lab.hosts[0],
        "sudo -n unshare --mount sh -c"
        f" 'umount -l /var/lib/fleetkit && umount -l /var && ls -A {secret} && echo listed'",
    )
    assert out.split() == ["listed"]


def test_a_become_task_sees_and_signals_only_its_hosts_processes(lab: LabState) -> None:
    marker = f"{uuid.uuid4().int % 10**6}.25"
    machine = subprocess.Popen(["sleep", marker])
    try:
        host = lab.hosts[0]
        listing = ssh_ok(lab, host, "sudo -n ps -e -o pid=,comm=")
        rows = [line.split(None, 1) for line in listing.splitlines()]
        assert rows[0] == ["1", "tini"]
        assert len(rows) < 50, listing
        # The machine's process is invisible, so it cannot be signalled by anything there.
        seen = ssh(lab, host, f"sudo -n pgrep -f '[s]leep {marker}'")
        assert seen.returncode == 1 and seen.stdout == ""
        assert ssh(lab, host, f"sudo -n pkill -KILL -f '[s]leep {marker}'").returncode == 1
        assert machine.poll() is None
        # /proc/1/root is the host's own root, not the machine's.
        assert ssh_ok(lab, host, "sudo -n cat /proc/1/root/etc/hostname").strip() == host.name
    finally:
        machine.kill()
        machine.wait()


# --- the inventory --------------------------------------------------------------------


def test_inventory_is_self_contained_with_managers_and_workers(lab: LabState) -> None:
    assert lab.inventory is not None
    data = yaml.safe_load(lab.inventory.read_text())
    all_vars = data["all"]["vars"]
    assert all_vars["ansible_user"] == "fleet"
    key = all_vars["ansible_ssh_private_key_file"]
    assert key == str(lab.key) and Path(key).is_absolute()
    assert all_vars["fleetkit_known_hosts"] == str(lab.known_hosts)
    assert all_vars["fleetkit_host_key_policy"] == "verify"
    groups = data["all"]["children"]
    assert list(groups["managers"]["hosts"]) == ["lab1"]
    assert list(groups["workers"]["hosts"]) == ["lab2", "lab3"]
    assert groups["managers"]["hosts"]["lab1"] == {"ansible_host": "198.18.0.2"}
    assert os.stat(lab.key).st_mode & 0o777 == 0o600


def test_five_hosts_make_three_managers() -> None:
    data = inventory_data(host_specs(5), LabPaths())
    children = data["all"]["children"]
    assert list(children["managers"]["hosts"]) == ["lab1", "lab2", "lab3"]
    assert list(children["workers"]["hosts"]) == ["lab4", "lab5"]


def test_addresses_skip_the_bridge_and_wrap_into_the_next_24() -> None:
    assert str(host_address(1)) == "198.18.0.2"
    assert str(host_address(253)) == "198.18.0.254"
    assert str(host_address(254)) == "198.18.1.1"
    specs = host_specs(600)
    assert len({s.address for s in specs}) == 600
    assert all(not s.address.endswith((".0", ".255")) for s in specs)
    assert all(len(s.veth) <= 15 for s in specs)


# --- prerequisites --------------------------------------------------------------------


def test_up_without_root_fails_clearly_and_makes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    before = leftovers(LabPaths())
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="needs root"):
        lab_up(hosts=2, inventory_out=Path("/nonexistent/hosts.yml"))
    monkeypatch.undo()
    assert leftovers(LabPaths()) == before


def test_missing_commands_are_named_with_their_debian_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = checks.which
    monkeypatch.setattr(checks, "which", lambda c: None if c in ("sshd", "nsenter") else real(c))
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # the check names commands even for non-root
    with pytest.raises(LabError) as err:
        checks.check_prerequisites()
    text = str(err.value)
    assert "sshd (openssh-server)" in text and "nsenter (util-linux)" in text
    assert "apt-get install openssh-server util-linux" in text


# --- up, status and down on a live lab --------------------------------------------------


def test_status_reports_alive_hosts(lab: LabState, capsys: pytest.CaptureFixture[str]) -> None:
    from fleetkit.cli import main

    state = lab_status()
    assert state is not None and state.alive
    assert [h.name for h in state.hosts] == [h.name for h in lab.hosts]
    assert all(h.sshd_alive and h.netns_alive for h in state.hosts)
    capsys.readouterr()
    assert main(["lab", "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["alive"] is True and len(data["hosts"]) == len(lab.hosts)


def test_up_on_a_live_lab_changes_nothing(lab: LabState) -> None:
    before = lab_status()
    assert before is not None and lab.inventory is not None
    known = lab.known_hosts.read_bytes()
    messages: list[str] = []
    again = lab_up(hosts=len(lab.hosts), inventory_out=lab.inventory, progress=messages.append)
    assert [h.sshd_pid for h in again.hosts] == [h.sshd_pid for h in before.hosts]
    assert again.created == before.created
    assert lab.known_hosts.read_bytes() == known
    assert any("already up" in m for m in messages)

    messages.clear()
    other = lab_up(hosts=len(lab.hosts) + 1, inventory_out=lab.inventory, progress=messages.append)
    assert len(other.hosts) == len(lab.hosts)
    assert any("fleetkit lab down" in m for m in messages)


def test_state_pids_are_sshd_processes_inside_lab_namespaces(lab: LabState) -> None:
    state = lab_status()
    assert state is not None
    for h in state.hosts:
        assert h.sshd_pid is not None
        assert b"sshd" in Path(f"/proc/{h.sshd_pid}/cmdline").read_bytes()
        assert procs.process_ns(h.sshd_pid, "net") != procs.process_ns(os.getpid(), "net")
        assert procs.process_ns(h.sshd_pid, "mnt") != procs.process_ns(os.getpid(), "mnt")


# --- rebuild and teardown (last: they replace the session's lab with an identical one) -----


def _restore(lab: LabState) -> None:
    """Bring the session's lab back (same hosts, same inventory path) if a test changed it."""
    state = lab_status()
    if state is None or not state.alive or state.docker != lab.docker:
        lab_down()
        assert lab.inventory is not None
        lab_up(hosts=len(lab.hosts), docker=lab.docker, inventory_out=lab.inventory)


@pytest.fixture
def restore_lab(lab: LabState) -> Iterator[None]:
    """Restore the session's lab after a test that breaks or replaces it."""
    yield
    _restore(lab)


@pytest.mark.destructive
@pytest.mark.usefixtures("restore_lab")
def test_a_half_dead_lab_is_rebuilt(lab: LabState) -> None:
    state = lab_status()
    assert state is not None
    victim = state.hosts[1]
    assert victim.sshd_pid is not None
    procs.stop_processes([victim.sshd_pid])
    half = lab_status()
    assert half is not None and not half.alive
    assert not half.host(victim.name).sshd_alive
    assert lab.inventory is not None
    messages: list[str] = []
    rebuilt = lab_up(hosts=len(lab.hosts), inventory_out=lab.inventory, progress=messages.append)
    assert rebuilt.alive
    assert any("half dead" in m for m in messages)
    assert ssh_ok(lab, rebuilt.host(victim.name), "hostname").strip() == victim.name


@pytest.mark.destructive
@pytest.mark.usefixtures("restore_lab")
def test_down_works_without_a_state_file_and_is_safe_twice(lab: LabState) -> None:
    paths = LabPaths()
    state = lab_status()
    assert state is not None
    pids = [h.sshd_pid for h in state.hosts]
    paths.state_file.unlink()  # as if the record were lost: down must find leftovers by name
    lab_down()
    assert leftovers(paths) == []
    assert not any(procs.is_running(p) for p in pids)
    assert lab_status() is None
    lab_down()
    assert leftovers(paths) == []


# --- lab up --docker (last: replaces the session's lab with a --docker one, then restores it) --


@pytest.fixture(scope="module")
def docker_lab(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    """A --docker lab of the session's size (the session's own lab comes back afterwards)."""
    if lab.docker:
        yield lab
        return
    lab_down()
    inventory = tmp_path_factory.mktemp("docker-lab") / "hosts.yml"
    try:
        yield lab_up(hosts=len(lab.hosts), docker=True, inventory_out=inventory)
    finally:
        _restore(lab)


def test_docker_lab_runs_a_dockerd_per_host_for_the_lab_user(
    docker_lab: LabState, ssh_config: Path
) -> None:
    assert docker_lab.alive and docker_lab.registry_alive
    for host in docker_lab.hosts:
        assert host.dockerd_alive
        h = infra(ssh_config, host)
        assert h.check_output("docker info --format '{{.Name}}'") == host.name
        assert h.check_output("findmnt -n -o FSTYPE /var/lib/docker") != "overlay"
        assert h.check_output("docker info --format '{{.Driver}}'") == "overlay2"


def test_docker_lab_serves_seeded_images_from_its_registry(
    docker_lab: LabState, ssh_config: Path
) -> None:
    assert docker_lab.inventory is not None
    all_vars = yaml.safe_load(docker_lab.inventory.read_text())["all"]["vars"]
    assert all_vars["lab_registry"] == "198.18.0.1:5000"
    assert all_vars["image"] == all_vars["lab_image_v1"] == "198.18.0.1:5000/fleetkit/web:v1"
    host = docker_lab.hosts[-1]
    h = infra(ssh_config, host)
    for version in ("v1", "v2"):
        ref = all_vars[f"lab_image_{version}"]
        name = f"probe-{version}"
        h.check_output(f"docker run -d --name {name} -p 80 {ref}")
        port = h.check_output(f"docker port {name} 80/tcp").splitlines()[0].rsplit(":", 1)[1]
        page = h.check_output(f"busybox wget -qO- http://{host.address}:{port}/")
        assert page == f"fleetkit-web {version}"
        h.check_output(f"docker rm -f {name}")
    bad = h.run(f"docker run --rm {all_vars['lab_image_bad']}")
    assert bad.rc != 0


@pytest.mark.destructive
@pytest.mark.usefixtures("restore_lab")
def test_docker_lab_down_leaves_nothing(docker_lab: LabState) -> None:
    lab_down()
    assert leftovers(LabPaths()) == []
    assert not any(procs.is_running(h.dockerd_pid) for h in docker_lab.hosts)
