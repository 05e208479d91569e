"""k3s_kubeconfig: parsed as YAML, server and names rewritten, written 0600, honest changed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from tests.unit.modules.k3s_support import recording_shell, run

from fleetkit.modules.k3s_kubeconfig import rewrite

pytestmark = pytest.mark.unit

K3S_YAML = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
"""


def test_rewrite_sets_server_and_names_as_yaml() -> None:
    doc = yaml.safe_load(rewrite(K3S_YAML, "https://198.18.0.2:6443", "lab"))
    assert doc["clusters"][0]["cluster"]["server"] == "https://198.18.0.2:6443"
    assert doc["clusters"][0]["name"] == "lab"
    assert doc["users"][0]["name"] == "lab"
    assert doc["contexts"][0] == {"context": {"cluster": "lab", "user": "lab"}, "name": "lab"}
    assert doc["current-context"] == "lab"
    assert doc["users"][0]["user"]["client-key-data"] == "S0VZ"


def test_rewrite_refuses_what_is_not_a_kubeconfig() -> None:
    with pytest.raises(ValueError):
        rewrite("just: text\n", "https://x:6443", "c")


def test_module_writes_0600_then_reports_ok(tmp_path: Path) -> None:
    src = tmp_path / "k3s.yaml"
    src.write_text(K3S_YAML)
    dest = tmp_path / "out" / "kubeconfig"
    args = {"src": str(src), "dest": str(dest), "context": "lab"}
    conn = recording_shell()
    res = run("k3s_kubeconfig", args, conn, variables={"ansible_host": "198.18.0.2"})
    assert res.changed and not res.failed, res.msg
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert yaml.safe_load(dest.read_text())["clusters"][0]["cluster"]["server"] == (
        "https://198.18.0.2:6443"
    )
    assert "S0VZ" not in res.msg
    again = run("k3s_kubeconfig", args, conn, variables={"ansible_host": "198.18.0.2"})
    assert not again.changed
    dest.chmod(0o644)
    fixed = run("k3s_kubeconfig", args, conn, variables={"ansible_host": "198.18.0.2"})
    assert fixed.changed and stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_check_mode_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "k3s.yaml"
    src.write_text(K3S_YAML)
    dest = tmp_path / "kubeconfig"
    res = run("k3s_kubeconfig", {"src": str(src), "dest": str(dest)}, recording_shell(), check=True)
    assert res.changed and not dest.exists()
