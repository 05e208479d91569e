"""`fleetkit inventory`: output on stdout, exit 0; bad input one message on stderr, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetkit.cli import main

from .conftest import WriteFile

pytestmark = pytest.mark.unit

FLEET = "[web]\nweb1 http_port=80\nweb2\n[db]\ndb1\n[all:vars]\nuser=deploy\n"


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
    assert data["_meta"]["hostvars"]["web2"] == {"user": "deploy", "http_port": 8080}
    assert out.startswith('{\n  "all": {')  # indent=2, groups in inventory order


def test_list_with_limit_and_extra_vars(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["inventory", "-i", str(inv_dir), "--list", "-l", "web[0]", "-e", "user=root n=3"],
        capsys,
    )
    data = json.loads(out)
    assert code == 0
    assert list(data["_meta"]["hostvars"]) == ["web1"]
    assert data["_meta"]["hostvars"]["web1"] == {"user": "root", "http_port": 80, "n": 3}
    assert "db" not in data


def test_graph(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inventory", "-i", str(inv_dir), "--graph", "-l", "db"], capsys)
    assert (code, out) == (0, "@all:\n  |--@db:\n  |  |--db1\n")


def test_host_prints_merged_vars(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inventory", "-i", str(inv_dir), "--host", "web1"], capsys)
    assert code == 0
    assert json.loads(out) == {"user": "deploy", "http_port": 80}


def test_yaml_output(inv_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["inventory", "-i", str(inv_dir), "--host", "web2", "--yaml"], capsys)
    assert (code, out) == (0, "user: deploy\nhttp_port: 8080\n")


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
