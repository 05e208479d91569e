"""pip, apt_key and apt_repository on a real lab host, offline: a venv made by pip's
module and one made --without-pip, both fed from a tiny wheel built here
(--no-index --find-links), a key generated here, a source line with update_cache
false. The playbook runs twice (the second run changes nothing); testinfra reads the
host over plain ssh; a cleanup playbook removes everything and is checked too."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra
from tests.support import fleetkit, json_events

from fleetkit.lab.model import LabState

pytestmark = pytest.mark.integration

HOST = "lab1"
PKG = "fktinypkg"
VENV = "/opt/fk-pkgmod-venv"
BARE = "/opt/fk-pkgmod-bare"
WHEELS = "/tmp/fk-pkgmod-wheels"
LIST = "/etc/apt/sources.list.d/fk-pkgmod.list"
# A lab address (the bridge's discard port): nothing is fetched, update_cache is false.
REPO = "deb [signed-by=/etc/apt/trusted.gpg.d/fk-pkgmod.gpg] http://198.18.0.1:9/fk bookworm main"


def build_wheel(folder: Path, version: str) -> Path:
    """A minimal pure-Python wheel (no build tools, no network)."""
    dist = f"{PKG}-{version}.dist-info"
    files = {
        f"{PKG}/__init__.py": f'VERSION = "{version}"\n',
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {PKG}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: fleetkit-test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    path = folder / f"{PKG}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for name, text in {**files, f"{dist}/RECORD": "\n".join(record) + "\n"}.items():
            whl.writestr(name, text)
    return path


def make_key(home: Path) -> tuple[str, str]:
    """A throw-away OpenPGP public key: (armored text, fingerprint)."""
    env = {**os.environ, "GNUPGHOME": str(home)}
    uid = "fleetkit package modules test <pkgmod@example.invalid>"
    gen = ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"]
    subprocess.run(gen, env=env, check=True, capture_output=True)
    listing = subprocess.run(
        ["gpg", "--with-colons", "--list-keys", uid], env=env, check=True, capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    fpr = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr"))
    armored = subprocess.run(
        ["gpg", "--armor", "--export", fpr], env=env, check=True, capture_output=True, text=True
    ).stdout
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True)
    return armored, fpr


def playbook(key: str) -> str:
    indented = textwrap.indent(key.strip(), " " * 14)
    return f"""
- hosts: {HOST}
  become: true
  gather_facts: false
  tasks:
    - ansible.builtin.file: {{path: {WHEELS}, state: directory}}
    - ansible.builtin.copy: {{src: "{{{{ item }}}}", dest: "{WHEELS}/{{{{ item }}}}"}}
      loop: [{PKG}-1.0-py3-none-any.whl, {PKG}-2.0-py3-none-any.whl]
    - ansible.builtin.pip:
        name: {PKG}
        version: "1.0"
        virtualenv: {VENV}
        virtualenv_command: python3 -m venv
        extra_args: --no-index --find-links {WHEELS}
    - ansible.builtin.pip:
        name: [{PKG}]
        state: latest
        virtualenv: {BARE}
        virtualenv_command: python3 -m venv --without-pip
        extra_args: --no-index --find-links {WHEELS}
    - ansible.builtin.apt_key:
        data: |
{indented}
        keyring: /etc/apt/trusted.gpg.d/fk-pkgmod.gpg
    - ansible.builtin.apt_repository:
        repo: "{REPO}"
        filename: fk-pkgmod
        update_cache: false
"""


CLEANUP = f"""
- hosts: {HOST}
  become: true
  gather_facts: false
  tasks:
    - ansible.builtin.apt_repository: {{repo: "{REPO}", state: absent, update_cache: false}}
    - ansible.builtin.apt_key: {{id: "{{{{ key_id }}}}", state: absent}}
    - ansible.builtin.pip:
        name: {PKG}
        state: absent
        virtualenv: {VENV}
    - ansible.builtin.file: {{path: "{{{{ item }}}}", state: absent}}
      loop: [{VENV}, {BARE}, {WHEELS}]
"""


def counts(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, int]]:
    events = json_events(proc.stdout)
    assert events and events[-1]["event"] == "summary", proc.stdout[-3000:] + proc.stderr[-2000:]
    hosts: dict[str, dict[str, int]] = events[-1]["hosts"]
    return hosts


@pytest.fixture(scope="module")
def host(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = tmp_path_factory.mktemp("ssh") / "config"
    h = next(h for h in lab.hosts if h.name == HOST)
    config.write_text(
        f"Host {h.name}\n  HostName {h.address}\n  User fleet\n  IdentityFile {lab.key}\n"
        f"  IdentitiesOnly yes\n  UserKnownHostsFile {lab.known_hosts}\n"
        "  StrictHostKeyChecking yes\n  BatchMode yes\n"
    )
    return testinfra.get_host(f"ssh://{h.name}", ssh_config=str(config), sudo=True)


@pytest.fixture(scope="module")
def books(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    assert lab.inventory is not None
    where = tmp_path_factory.mktemp("pkgmod")
    (where / "files").mkdir()
    for version in ("1.0", "2.0"):
        build_wheel(where / "files", version)
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    key, fpr = make_key(home)
    (where / "site.yml").write_text(playbook(key))
    (where / "cleanup.yml").write_text(CLEANUP)
    paths = {"inv": str(lab.inventory), "site": str(where / "site.yml"), "fpr": fpr}
    yield paths
    proc = fleetkit(
        "run", str(where / "cleanup.yml"), "-i", paths["inv"], "-e", f"key_id={fpr}", "--json",
        timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_package_modules_converge_offline_then_change_nothing(
    books: dict[str, str], host: Any
) -> None:
    first = fleetkit("run", books["site"], "-i", books["inv"], "--json", timeout=300)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert counts(first)[HOST]["changed"] >= 6, counts(first)
    second = fleetkit("run", books["site"], "-i", books["inv"], "--json", timeout=300)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    assert counts(second)[HOST]["changed"] == 0, [
        e for e in json_events(second.stdout) if e.get("status") == "changed"
    ]
    check = fleetkit("run", books["site"], "-i", books["inv"], "--check", "--json", timeout=300)
    assert check.returncode == 0 and counts(check)[HOST]["changed"] == 0

    version = f"{VENV}/bin/python -c 'import {PKG}; print({PKG}.VERSION)'"
    assert host.check_output(version) == "1.0"
    assert host.check_output(version.replace(VENV, BARE)) == "2.0"
    assert host.run(f"{BARE}/bin/python -m pip --version").rc != 0  # still a pip-less venv
    assert host.file(LIST).content_string == REPO + "\n"
    keys = host.check_output("gpg --show-keys --with-colons /etc/apt/trusted.gpg.d/fk-pkgmod.gpg")
    assert books["fpr"] in keys


def test_cleanup_leaves_nothing_behind(books: dict[str, str], host: Any) -> None:
    cleanup = Path(books["site"]).with_name("cleanup.yml")
    proc = fleetkit(
        "run", str(cleanup), "-i", books["inv"], "-e", f"key_id={books['fpr']}", "--json",
        timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for path in (VENV, BARE, WHEELS, LIST, "/etc/apt/trusted.gpg.d/fk-pkgmod.gpg"):
        assert not host.file(path).exists, path
