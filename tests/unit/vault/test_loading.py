"""Vaulted data wherever YAML is read: inventories, group_vars/host_vars, vars_files,
include_vars and `-e @file`; errors name the file (and line) and nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.vault.conftest import inline, vaulted, write

from fleetkit.cli import main
from fleetkit.errors import Position
from fleetkit.inventory.extra_vars import parse_extra_vars
from fleetkit.inventory.load import load_inventory
from fleetkit.vault.context import vault_session
from fleetkit.vault.secrets import VaultSecret, VaultSecrets
from fleetkit.vault.values import VaultError, VaultStr

pytestmark = pytest.mark.unit

MAIN = VaultSecrets((VaultSecret("default", b"pw-main"),))


@pytest.fixture
def inv(tmp_path: Path) -> Path:
    write(
        tmp_path / "inv" / "hosts.yml",
        "all:\n  hosts:\n    node1:\n      ansible_connection: local\n"
        "      " + inline("host_token", "tok-Inline-1").replace("\n", "\n      ").rstrip() + "\n",
    )
    write(
        tmp_path / "inv" / "group_vars" / "all.yml", vaulted("group_secret: grp-File-2\nport: 22\n")
    )
    write(
        tmp_path / "inv" / "host_vars" / "node1" / "main.yml",
        "plain: visible\n" + inline("hv_secret", "hv-Inline-3", "pw-prod", "prod"),
    )
    return tmp_path / "inv"


def test_inventory_inline_and_whole_file_vaults_load_as_vault_strings(inv: Path) -> None:
    both = VaultSecrets((*MAIN.secrets, VaultSecret("prod", b"pw-prod")))
    with vault_session(both):
        host = load_inventory(inv).host("node1")
    assert host.vars["host_token"] == "tok-Inline-1"
    assert host.vars["group_secret"] == "grp-File-2"
    assert host.vars["hv_secret"] == "hv-Inline-3"
    assert all(
        isinstance(host.vars[k], VaultStr) for k in ("host_token", "group_secret", "hv_secret")
    )
    assert host.vars["port"] == 22 and host.vars["plain"] == "visible"
    assert not isinstance(host.vars["plain"], VaultStr)
    assert repr(host.vars["group_secret"]) == "VaultStr('********')"


def test_a_vaulted_ini_inventory_loads(tmp_path: Path) -> None:
    write(tmp_path / "hosts.ini", vaulted("[web]\nweb1 ansible_connection=local\n"))
    with vault_session(MAIN):
        assert (
            load_inventory(tmp_path / "hosts.ini").host("web1").vars["ansible_connection"]
            == "local"
        )


def test_extra_vars_file_may_be_vaulted(tmp_path: Path) -> None:
    write(tmp_path / "extra.yml", vaulted("api_key: key-Extra-4\n"))
    write(tmp_path / "mixed.yml", inline("other", "other-Inline-5"))
    with vault_session(MAIN):
        extra = parse_extra_vars(["@extra.yml", "@mixed.yml"], tmp_path)
    assert extra == {"api_key": "key-Extra-4", "other": "other-Inline-5"}


def test_a_missing_password_names_the_file(inv: Path) -> None:
    with pytest.raises(VaultError, match="no vault password given") as caught:
        load_inventory(inv)
    assert caught.value.position in (
        Position(inv / "hosts.yml", 5),  # the `host_token: !vault |` line
        Position(inv / "group_vars" / "all.yml"),
    )


def test_a_wrong_password_names_the_file_and_the_line_of_an_inline_value(tmp_path: Path) -> None:
    write(tmp_path / "vars.yml", "a: 1\n" + inline("b", "bee-secret", "other-pw"))
    with vault_session(MAIN), pytest.raises(VaultError) as caught:
        parse_extra_vars(["@vars.yml"], tmp_path)
    assert caught.value.position == Position(tmp_path / "vars.yml", 2)
    assert "wrong vault password for inline vault value" in caught.value.message


def test_a_missing_vault_id_is_named(inv: Path) -> None:
    with vault_session(MAIN), pytest.raises(VaultError) as caught:
        load_inventory(inv)
    assert caught.value.position == Position(inv / "host_vars" / "node1" / "main.yml", 2)
    assert "vault ID 'prod', which no password was given for" in caught.value.message
    assert caught.value.hint == "add --vault-id prod@FILE"


def test_damaged_vault_data_is_named(tmp_path: Path) -> None:
    text = vaulted("k: v\n").replace("3", "x", 1)
    write(tmp_path / "vars.yml", text)
    with vault_session(MAIN), pytest.raises(VaultError, match="damaged vault-encrypted file"):
        parse_extra_vars(["@vars.yml"], tmp_path)


def run(tmp_path: Path, *args: str) -> int:
    return int(main(["run", "site.yml", "-i", "inv", *args]))


@pytest.fixture
def playbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "inv" / "hosts.yml", "all:\n  hosts:\n    node1: {ansible_connection: local}\n"
    )
    write(tmp_path / "pw", "pw-main\n")
    write(tmp_path / "vf.yml", vaulted("from_vars_file: vf-Secret-6\n"))
    write(tmp_path / "iv.yml", inline("from_include", "iv-Secret-7"))
    write(tmp_path / "extra.yml", vaulted("from_extra: ex-Secret-8\n"))
    out = tmp_path / "out"
    write(
        tmp_path / "site.yml",
        "- hosts: all\n  vars_files: [vf.yml]\n  tasks:\n"
        "    - include_vars: iv.yml\n"
        f"    - copy: {{content: '{{{{ from_vars_file }}}},{{{{ from_include }}}},"
        f"{{{{ from_extra }}}}', dest: {out}}}\n",
    )
    return out


def test_vars_files_include_vars_and_extra_vars_files_decrypt_in_a_run(
    tmp_path: Path, playbook: Path
) -> None:
    assert run(tmp_path, "--vault-password-file", "pw", "-e", "@extra.yml") == 0
    assert playbook.read_text() == "vf-Secret-6,iv-Secret-7,ex-Secret-8"


def test_the_environment_names_the_password_file(
    tmp_path: Path, playbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(tmp_path / "pw"))
    assert run(tmp_path, "-e", "@extra.yml") == 0
    assert playbook.read_text() == "vf-Secret-6,iv-Secret-7,ex-Secret-8"


def test_a_wrong_password_is_exit_2_naming_the_file_and_nothing_runs(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "bad", "nope\n")
    assert run(tmp_path, "--vault-password-file", "bad", "-e", "@extra.yml") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fleetkit: error: {tmp_path / 'extra.yml'}: wrong vault password")
    assert not playbook.exists()


def test_no_password_for_a_vars_file_is_exit_2_before_any_host(
    tmp_path: Path, playbook: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path) == 2
    assert "vf.yml: vault-encrypted file but no vault password given" in capsys.readouterr().err
    assert not playbook.exists()
