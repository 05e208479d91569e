"""The file, account and system-state modules of issue 10 on real lab hosts.

One playbook of every module (stat, slurp, blockinfile, replace, group, cron,
authorized_key, find, archive, unarchive, get_url, sysctl, mount) runs twice on
lab2: the first run changes, the second reports 0 changed, a --check run after
it predicts no change, and the host's state is read back over SSH. hostname
runs on lab3 (renamed, then restored). get_url downloads from the lab
registry's /v2/ endpoint (198.18.0.1:5000, it answers `{}`); sysctl changes
only net.core.somaxconn of lab2's own network namespace and restores it; mount
uses a tmpfs and a bind mount inside lab2 with a private fstab, unmounted after.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import testinfra
from tests.support import fleetkit, json_events

from fleetkit.lab.model import LabState

pytestmark = pytest.mark.integration

ROOT = "/srv/fk-filemods"
REGISTRY_V2 = "http://198.18.0.1:5000/v2/"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkfilemodsfilemodsfilemodsfilemodsfilemodsfil fk-test"
SYSCTL_FILE = "/etc/sysctl.d/90-fk-filemods.conf"
CRON_FILE = "/etc/cron.d/fk-filemods"

PLAYBOOK = f"""
- name: file modules
  hosts: lab2
  become: true
  gather_facts: false
  tasks:
    - name: dirs
      file: {{path: "{{{{ item }}}}", state: directory}}
      loop: ["{ROOT}", "{ROOT}/tree", "{ROOT}/out", "{ROOT}/site"]
    - name: seed conf
      copy: {{dest: "{ROOT}/app.conf", content: "port=80\\nuser = bob\\n", force: false}}
    - name: seed tree
      copy: {{dest: "{ROOT}/tree/x.txt", content: "tree file\\n"}}
    - name: stat conf
      ansible.builtin.stat: {{path: "{ROOT}/app.conf"}}
      register: st
    - name: slurp conf
      slurp: {{src: "{ROOT}/app.conf"}}
      register: sl
    - name: facts read back
      assert:
        that:
          - st.stat.exists
          - st.stat.isreg
          - st.stat.mode == '0644'
          - "'user = bob' in (sl.content | b64decode)"
    - name: block
      blockinfile: {{path: "{ROOT}/app.conf", block: "a=1\\nb=2"}}
    - name: replace port
      replace: {{path: "{ROOT}/app.conf", regexp: "^port=80$", replace: "port=8080"}}
    - name: group
      group: {{name: fkfilemods, gid: 23456}}
    - name: cron
      cron: {{name: fk-job, job: /bin/true, minute: "5", user: root, cron_file: fk-filemods}}
    - name: key
      ansible.posix.authorized_key:
        user: fleet
        key: "{KEY}"
        path: "{ROOT}/ssh/authorized_keys"
    - name: find confs
      find: {{paths: "{ROOT}", patterns: "*.conf"}}
      register: found
    - name: found one
      assert: {{that: ["found.matched == 1", "found.files[0].path == '{ROOT}/app.conf'"]}}
    - name: archive tree
      community.general.archive: {{path: "{ROOT}/tree", dest: "{ROOT}/tree.tgz"}}
    - name: unarchive on the host
      unarchive: {{src: "{ROOT}/tree.tgz", dest: "{ROOT}/out", remote_src: true}}
    - name: unarchive from the controller
      unarchive: {{src: site.tgz, dest: "{ROOT}/site"}}
    - name: download
      get_url:
        url: "{REGISTRY_V2}"
        dest: "{ROOT}/v2.json"
        checksum: "sha256:{hashlib.sha256(b"{}").hexdigest()}"
        mode: "0640"
    - name: sysctl
      ansible.posix.sysctl:
        name: net.core.somaxconn
        value: "{{{{ somaxconn }}}}"
        sysctl_file: {SYSCTL_FILE}
    - name: tmpfs
      ansible.posix.mount:
        path: "{ROOT}/mnt"
        src: tmpfs
        fstype: tmpfs
        opts: size=4m
        state: mounted
        fstab: "{ROOT}/fstab"
    - name: bind
      ansible.posix.mount:
        path: "{ROOT}/bind"
        src: "{ROOT}/tree"
        fstype: none
        opts: bind
        state: mounted
        fstab: "{ROOT}/fstab"
"""

HOSTNAME = """
- name: rename
  hosts: lab3
  become: true
  gather_facts: false
  tasks:
    - name: hostname
      hostname: {name: "{{ new_name }}"}
"""


def run(*args: str, cwd: Path) -> list[dict[str, Any]]:
    proc = fleetkit("run", *args, "--json", cwd=cwd, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json_events(proc.stdout)


def stats(evts: list[dict[str, Any]], host: str) -> dict[str, int]:
    assert evts[-1]["event"] == "summary"
    return dict(evts[-1]["hosts"][host])


def changed_tasks(evts: list[dict[str, Any]]) -> set[str]:
    return {e["task"] for e in evts if e["event"] == "host_result" and e["status"] == "changed"}


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
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, lab: LabState) -> Path:
    root = tmp_path_factory.mktemp("filemods")
    (root / "site.yml").write_text(textwrap.dedent(PLAYBOOK))
    (root / "hostname.yml").write_text(textwrap.dedent(HOSTNAME))
    (root / "files").mkdir()
    with tarfile.open(root / "files" / "site.tgz", "w:gz") as tar:
        page = b"<h1>fleetkit</h1>\n"
        info = tarfile.TarInfo("index.html")
        info.size, info.mtime, info.mode = len(page), 1_700_000_000, 0o644
        tar.addfile(info, io.BytesIO(page))
    assert lab.inventory is not None
    return root


@dataclass(frozen=True)
class Runs:
    """The events of the first, second and --check runs, and lab2's somaxconn values."""

    first: list[dict[str, Any]]
    second: list[dict[str, Any]]
    check: list[dict[str, Any]]
    original: str
    wanted: str


@pytest.fixture(scope="module")
def runs(project: Path, lab: LabState, hosts: dict[str, Any]) -> Iterator[Runs]:
    lab2 = hosts["lab2"]
    original = lab2.check_output("sysctl -n net.core.somaxconn").strip()
    wanted = str(int(original) - 1)
    inv = str(lab.inventory)
    try:
        args = ("site.yml", "-i", inv, "-e", f"somaxconn={wanted}")
        first = run(*args, cwd=project)
        second = run(*args, cwd=project)
        check = run(*args, "--check", cwd=project)
        yield Runs(first, second, check, original, wanted)
    finally:
        lab2.run(
            f"umount {ROOT}/mnt; umount {ROOT}/bind; rm -rf {ROOT} {SYSCTL_FILE} {CRON_FILE};"
            f" sysctl -w net.core.somaxconn={original}; groupdel fkfilemods; true"
        )


def test_first_run_changes_and_second_run_changes_nothing(runs: Runs) -> None:
    first, second, check = runs.first, runs.second, runs.check
    assert stats(first, "lab2")["failed"] == 0
    assert {
        "block",
        "replace port",
        "group",
        "cron",
        "key",
        "archive tree",
        "unarchive on the host",
        "unarchive from the controller",
        "download",
        "sysctl",
        "tmpfs",
        "bind",
    } <= changed_tasks(first)
    assert stats(second, "lab2")["changed"] == 0, changed_tasks(second)
    assert stats(check, "lab2")["changed"] == 0, changed_tasks(check)


def test_the_host_holds_what_the_modules_made(runs: Runs, hosts: dict[str, Any]) -> None:
    lab2 = hosts["lab2"]
    wanted = runs.wanted
    conf = lab2.file(f"{ROOT}/app.conf").content_string
    assert conf == (
        "port=8080\nuser = bob\n# BEGIN ANSIBLE MANAGED BLOCK\na=1\nb=2\n"
        "# END ANSIBLE MANAGED BLOCK\n"
    )
    assert lab2.group("fkfilemods").gid == 23456
    assert lab2.file(CRON_FILE).content_string == "#Ansible: fk-job\n5 * * * * root /bin/true\n"
    keys = lab2.file(f"{ROOT}/ssh/authorized_keys")
    assert keys.content_string == KEY + "\n" and keys.mode == 0o600 and keys.user == "fleet"
    assert lab2.file(f"{ROOT}/out/tree/x.txt").content_string == "tree file\n"
    assert lab2.file(f"{ROOT}/site/index.html").content_string == "<h1>fleetkit</h1>\n"
    download = lab2.file(f"{ROOT}/v2.json")
    assert download.content_string == "{}" and download.mode == 0o640
    assert lab2.check_output("sysctl -n net.core.somaxconn").strip() == wanted
    assert lab2.file(SYSCTL_FILE).content_string == f"net.core.somaxconn={wanted}\n"
    assert lab2.mount_point(f"{ROOT}/mnt").filesystem == "tmpfs"
    assert lab2.file(f"{ROOT}/bind/x.txt").content_string == "tree file\n"
    assert lab2.file(f"{ROOT}/fstab").content_string == (
        f"tmpfs {ROOT}/mnt tmpfs size=4m 0 0\n{ROOT}/tree {ROOT}/bind none bind 0 0\n"
    )
    # the lab host's namespaces kept all of it from the machine itself
    machine = subprocess.run(
        ["sysctl", "-n", "net.core.somaxconn"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert machine != wanted
    assert ROOT not in Path("/proc/self/mounts").read_text()


def test_hostname_renames_idempotently_and_is_restored(
    project: Path, lab: LabState, hosts: dict[str, Any]
) -> None:
    lab3 = hosts["lab3"]
    original = lab3.check_output("hostname").strip()
    inv = str(lab.inventory)
    try:
        first = run("hostname.yml", "-i", inv, "-e", "new_name=fk-renamed", cwd=project)
        second = run("hostname.yml", "-i", inv, "-e", "new_name=fk-renamed", cwd=project)
        assert stats(first, "lab3")["changed"] == 1
        assert stats(second, "lab3")["changed"] == 0
        assert lab3.check_output("hostname").strip() == "fk-renamed"
        assert lab3.file("/etc/hostname").content_string == "fk-renamed\n"
    finally:
        restore = run("hostname.yml", "-i", inv, "-e", f"new_name={original}", cwd=project)
    assert stats(restore, "lab3")["failed"] == 0
    assert lab3.check_output("hostname").strip() == original
    assert lab3.file("/etc/hostname").content_string == f"{original}\n"
