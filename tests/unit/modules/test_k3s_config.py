"""k3s_config: config as files (node-ip always), registries, hash-gated writes, the token file."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.unit.modules.k3s_support import recording_shell, run

from fleetkit.modules.args import prepare
from fleetkit.modules.k3s_config import parity_warning
from fleetkit.modules.registry import lookup
from fleetkit.orchestrators.base import Secret

pytestmark = pytest.mark.unit

TOKEN = "K10" + "ab" * 32 + "::server:" + "cd" * 16


def dirs(tmp_path: Path) -> dict[str, Any]:
    return {
        "config_dir": str(tmp_path / "etc/rancher/k3s"),
        "unit_dir": str(tmp_path / "etc/systemd/system"),
        "token_file": str(tmp_path / "etc/rancher/k3s/cluster-token"),
        "bin_dir": "/opt/k3s/bin",
    }


def config(tmp_path: Path) -> dict[str, Any]:
    text = (tmp_path / "etc/rancher/k3s/config.yaml").read_text()
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_server_config_has_node_ip_and_cluster_init(tmp_path: Path) -> None:
    args = {"role": "server", "cluster_init": True, "servers": 3, **dirs(tmp_path)}
    res = run("k3s_config", args, recording_shell(), variables={"ansible_host": "198.18.0.2"})
    assert res.changed and not res.failed, res.msg
    doc = config(tmp_path)
    assert doc["node-ip"] == "198.18.0.2"
    assert doc["node-name"] == "h1"
    assert doc["cluster-init"] is True
    assert "server" not in doc and "token-file" not in doc
    assert mode(tmp_path / "etc/rancher/k3s/config.yaml") == 0o600
    unit = (tmp_path / "etc/systemd/system/k3s.service").read_text()
    assert "ExecStart=/opt/k3s/bin/k3s server\n" in unit
    assert "Type=notify" in unit
    assert "warning" not in res.msg


def test_a_second_run_writes_nothing(tmp_path: Path) -> None:
    args = {"role": "server", **dirs(tmp_path), "config": {"node-label": ["tier=a"]}}
    conn = recording_shell()
    assert run("k3s_config", args, conn).changed
    again = run("k3s_config", args, conn)
    assert not again.changed and not again.failed, again.msg
    changed = run("k3s_config", {**args, "config": {"node-label": ["tier=b"]}}, conn)
    assert changed.changed
    assert changed.data["files_changed"] == [str(tmp_path / "etc/rancher/k3s/config.yaml")]


def test_agent_joins_with_a_0600_token_file_never_on_a_command_line(tmp_path: Path) -> None:
    conn = recording_shell()
    args = {
        "role": "agent",
        "server_url": "https://198.18.0.2:6443",
        "token": Secret(TOKEN),
        **dirs(tmp_path),
    }
    res = run("k3s_config", args, conn, diff=True, variables={"ansible_host": "198.18.0.3"})
    assert res.changed and not res.failed, res.msg
    token_file = tmp_path / "etc/rancher/k3s/cluster-token"
    assert token_file.read_text() == TOKEN + "\n"
    assert mode(token_file) == 0o600
    doc = config(tmp_path)
    assert doc["server"] == "https://198.18.0.2:6443"
    assert doc["token-file"] == str(token_file)
    assert "token" not in doc
    for shown in (res.msg, res.stdout, res.stderr, res.diff, repr(dict(res.data))):
        assert TOKEN not in shown
    assert conn.calls and all(TOKEN not in c.command for c in conn.calls)
    assert (tmp_path / "etc/systemd/system/k3s-agent.service").is_file()


def test_plain_http_registries_become_http_mirrors(tmp_path: Path) -> None:
    args = {"role": "server", "http_registries": ["198.18.0.1:5000"], **dirs(tmp_path)}
    assert run("k3s_config", args, recording_shell()).changed
    reg = yaml.safe_load((tmp_path / "etc/rancher/k3s/registries.yaml").read_text())
    assert reg == {"mirrors": {"198.18.0.1:5000": {"endpoint": ["http://198.18.0.1:5000"]}}}
    # no registries any more: the file goes, and that is a change
    res = run("k3s_config", {**args, "http_registries": []}, recording_shell())
    assert res.changed
    assert not (tmp_path / "etc/rancher/k3s/registries.yaml").exists()


def test_check_mode_writes_nothing(tmp_path: Path) -> None:
    res = run("k3s_config", {"role": "server", **dirs(tmp_path)}, recording_shell(), check=True)
    assert res.changed and res.msg.startswith("would write")
    assert not (tmp_path / "etc").exists()


def test_an_even_server_count_is_warned_about(tmp_path: Path) -> None:
    assert parity_warning(3) is None and parity_warning(1) is None
    warning = parity_warning(4)
    assert warning is not None and "even" in warning
    res = run("k3s_config", {"role": "server", "servers": 2, **dirs(tmp_path)}, recording_shell())
    assert "warning: 2 k8s_servers" in res.msg


def test_tokens_and_owned_keys_are_refused_in_extra_config() -> None:
    mod = lookup("k3s_config")
    assert mod is not None
    _, errors = prepare(mod, {"role": "server", "config": {"token": "x"}})
    assert errors and "token" in errors[0]
    _, errors = prepare(mod, {"role": "agent"})
    assert errors and "server_url" in errors[0]
