"""`fleetkit inventory`: output on stdout, exit 0; bad input one message on stderr, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetkit.cli import main

from .conftest import WriteFile

pytestmark = pytest.mark.unit

FLEET = "[web]\nweb1 http_port=80\nweb2\n[db]\ndb1\n[all:vars]\nansible_user=deploy\n"


@pytest.fixture
def inv_dir(tmp_path: Path, write: WriteFile) -> Path:
    write("inv/hosts.ini", FLEET)
    write("inv/host_vars/web2.yml", "http_port: 8080\n")
    return tmp_path / "inv"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_is_the_default(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["inventory", "-i", str(inv_dir)], capsys)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["web"] == {"hosts": ["web1", "web2"]}
    assert data["all"] == {"children": ["ungrouped", "web", "db"]}
    assert data["_meta"]["hostvars"]["web2"] == {"ansible_user": "deploy", "http_port": 8080}
    assert data["_meta"]["profile"] == "inventory_legacy"  # as ansible-inventory 2.19
    assert out.startswith('{\n  "all": {')  # indent=2, groups in inventory order


def test_list_with_limit_and_extra_vars(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["inventory", "-i", str(inv_dir), "--list", "-l", "web[0]", "-e", "ansible_user=root n=3"],
        capsys,
    )
    data = json.loads(out)
    assert code == 0
    assert list(data["_meta"]["hostvars"]) == ["web1"]
    assert data["_meta"]["hostvars"]["web1"] == {"ansible_user": "root", "http_port": 80, "n": 3}
    assert "db" not in data  # a group with none of the selected hosts has no keys left


def test_graph(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inventory", "-i", str(inv_dir), "--graph", "-l", "db"], capsys)
    assert (code, out) == (0, "@all:\n  |--@db:\n  |  |--db1\n")


def test_host_prints_merged_vars(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inventory", "-i", str(inv_dir), "--host", "web1"], capsys)
    assert code == 0
    assert json.loads(out) == {"ansible_user": "deploy", "http_port": 80}


def test_yaml_output(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inventory", "-i", str(inv_dir), "--host", "web2", "--yaml"], capsys)
    assert (code, out) == (0, "ansible_user: deploy\nhttp_port: 8080\n")


def test_inventory_error_exits_2_with_file_and_line(
    tmp_path: Path, write: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write("bad.yml", "all:\n  childern:\n    web:\n")
    code, out, err = run(["inventory", "-i", str(path)], capsys)
    assert (code, out) == (2, "")
    assert f"{path}:2: unknown key 'childern' in group 'all'" in err
    assert "did you mean 'children'?" in err
    assert "Traceback" not in err


def test_limit_matching_nothing_exits_2(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["inventory", "-i", str(inv_dir), "-l", "wbe"], capsys)
    assert (code, out) == (2, "")
    assert "limit 'wbe': no group or host named 'wbe'" in err
    assert "close names: web" in err


def test_host_outside_limit_exits_2(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["inventory", "-i", str(inv_dir), "--host", "db1", "-l", "web"], capsys)
    assert code == 2
    assert "outside the limit" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["inventory", "--list", "--graph"],
        ["inventory", "--host", "web1", "--graph"],
        ["inventory", "-e", "novalue"],
        ["inventory", "--host", "nope"],
    ],
)
def test_bad_usage_exits_2(
    inv_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run([*argv, "-i", str(inv_dir)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("fleetkit: error: ")


def test_missing_inventory_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["inventory", "--list"], capsys)
    assert code == 2
    assert "-i" in err


def test_several_inventories_merge_in_order(
    tmp_path: Path, write: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write("a.ini", "[web]\nw1 v=a\n")
    second = write(
        "b.yml", "all:\n  children:\n    web:\n      hosts:\n        w1: {v: b}\n        w2:\n"
    )
    code, out, _ = run(["inventory", "-i", str(first), "-i", str(second), "--list"], capsys)
    data = json.loads(out)
    assert code == 0 and data["web"] == {"hosts": ["w1", "w2"]}
    assert data["_meta"]["hostvars"]["w1"] == {"v": "b"}


def test_export_puts_group_vars_under_groups(
    inv_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["inventory", "-i", str(inv_dir), "--list", "--export"], capsys)
    data = json.loads(out)
    assert code == 0 and data["all"]["vars"] == {"ansible_user": "deploy"}
    assert data["_meta"]["hostvars"] == {"web1": {"http_port": 80}, "web2": {"http_port": 8080}}


def test_old_short_names_warn_once_on_stderr(
    tmp_path: Path, write: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        "old.yml", "all:\n  vars:\n    user: fleet\n  hosts:\n    h1: {address: 192.0.2.1}\n"
    )
    code, out, err = run(["inventory", "-i", str(path), "--host", "h1"], capsys)
    assert code == 0 and json.loads(out) == {"user": "fleet", "address": "192.0.2.1"}
    assert err.count("warning") == 1 and "address -> ansible_host" in err


def test_implicit_localhost_answers_host(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    code, out, _ = run(["inventory", "-i", str(inv_dir), "--host", "localhost"], capsys)
    assert code == 0
    assert json.loads(out) == {
        "ansible_user": "deploy",
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
    }
