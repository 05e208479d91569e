"""fleetkit's vault files against the real ansible-vault (ansible-core), both directions:
what fleetkit encrypts ansible-vault views, what ansible-vault encrypts fleetkit views,
and encrypt_string output of each loads in the other (1.1 and 1.2 with vault IDs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.compat

BIN = Path(sys.executable).parent
PLAIN = "db_password: 'Compat-Secret-1'\nlist:\n  - ünïcode\n"


def ansible_vault(
    *args: str, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    pytest.importorskip(
        "ansible", reason="ansible-core is not installed (pip install ansible-core)"
    )
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(cwd / ".ansible")}
    return subprocess.run(
        [str(BIN / "ansible-vault"), *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def fleetkit(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "fleetkit"), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "pw").write_text("compat-pw\n")
    return tmp_path


@pytest.mark.parametrize("ident", [(), ("--vault-id", "prod@pw")], ids=["1.1", "1.2"])
def test_ansible_vault_views_what_fleetkit_encrypts(work: Path, ident: tuple[str, ...]) -> None:
    (work / "s.yml").write_text(PLAIN)
    opts = ident or ("--vault-password-file", "pw")
    fleetkit("vault", "encrypt", "s.yml", *opts, cwd=work)
    header = "$ANSIBLE_VAULT;1.2;AES256;prod" if ident else "$ANSIBLE_VAULT;1.1;AES256"
    assert (work / "s.yml").read_text().splitlines()[0] == header
    assert ansible_vault("view", "s.yml", *opts, cwd=work).stdout == PLAIN
    ansible_vault("decrypt", "s.yml", *opts, cwd=work)
    assert (work / "s.yml").read_text() == PLAIN


@pytest.mark.parametrize("ident", [(), ("--vault-id", "prod@pw")], ids=["1.1", "1.2"])
def test_fleetkit_views_what_ansible_vault_encrypts(work: Path, ident: tuple[str, ...]) -> None:
    (work / "s.yml").write_text(PLAIN)
    opts = ident or ("--vault-password-file", "pw")
    ansible_vault("encrypt", "s.yml", *opts, cwd=work)
    assert fleetkit("vault", "view", "s.yml", *opts, cwd=work).stdout == PLAIN
    fleetkit("vault", "rekey", "s.yml", *opts, "--new-vault-id", "next@pw", cwd=work)
    assert ansible_vault("view", "s.yml", "--vault-id", "next@pw", cwd=work).stdout == PLAIN


def test_encrypt_string_output_loads_in_both(work: Path) -> None:
    ours = fleetkit(
        "vault",
        "encrypt_string",
        "--vault-id",
        "prod@pw",
        "-n",
        "from_fleetkit",
        "fk-String-2",
        cwd=work,
    ).stdout
    theirs = ansible_vault(
        "encrypt_string",
        "--vault-password-file",
        "pw",
        "-n",
        "from_ansible",
        "an-String-3",
        cwd=work,
    ).stdout
    (work / "vars.yml").write_text(ours + theirs)
    (work / "inv.yml").write_text("all:\n  hosts:\n    localhost: {ansible_connection: local}\n")
    # ansible reads both inline values
    playbook = work / "show.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  vars_files: [vars.yml]\n  tasks:\n"
        "    - copy: {content: '{{ from_fleetkit }} {{ from_ansible }}', dest: '{{ out }}'}\n"
    )
    pytest.importorskip("ansible", reason="ansible-core is not installed")
    env = {
        **os.environ,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(work / ".ansible"),
        "ANSIBLE_HOME": str(work / ".ansible"),
    }
    subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "show.yml",
            "--vault-password-file",
            "pw",
            "-e",
            f"out={work / 'by-ansible'}",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert (work / "by-ansible").read_text() == "fk-String-2 an-String-3"
    # and fleetkit too
    fleetkit(
        "run",
        "show.yml",
        "-i",
        "inv.yml",
        "--vault-password-file",
        "pw",
        "-e",
        f"out={work / 'by-fleetkit'}",
        cwd=work,
    )
    assert (work / "by-fleetkit").read_text() == "fk-String-2 an-String-3"
