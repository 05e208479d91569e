"""bootstrap-k8s.yml without a k3s binary is bad input (exit 2) found before any host is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import FleetkitError
from fleetkit.playbook.session import RunRequest, prepare

pytestmark = pytest.mark.unit

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "bootstrap-k8s.yml"


def inventory(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "hosts.yml"
    path.write_text(
        "all:\n"
        f"  vars: {{fleetkit_host_key_policy: verify{extra}}}\n"
        "  children:\n"
        "    k8s_servers: {hosts: {s1: {ansible_host: 192.0.2.1}}}\n"
        "    k8s_agents: {hosts: {a1: {ansible_host: 192.0.2.2}}}\n"
    )
    return path


def test_no_binary_anywhere_is_an_exit_2_error_naming_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLEETKIT_K3S_BINARY", raising=False)
    request = RunRequest(playbook=PLAYBOOK, inventory=inventory(tmp_path), cwd=tmp_path)
    with pytest.raises(FleetkitError) as err:
        prepare(request)
    assert err.value.exit_code == 2
    assert "no k3s binary to install" in err.value.message
    assert "k3s_binary" in err.value.message and "FLEETKIT_K3S_BINARY" in err.value.message


def test_a_wrong_path_from_extra_vars_is_caught_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLEETKIT_K3S_BINARY", raising=False)
    request = RunRequest(
        playbook=PLAYBOOK,
        inventory=inventory(tmp_path),
        extra_vars=(f"k3s_binary={tmp_path}/missing/k3s",),
        cwd=tmp_path,
    )
    with pytest.raises(FleetkitError) as err:
        prepare(request)
    assert err.value.exit_code == 2
    assert f"{tmp_path}/missing/k3s not found on the controller" in err.value.message


def test_a_binary_from_the_environment_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "k3s"
    binary.write_bytes(b"x")
    monkeypatch.setenv("FLEETKIT_K3S_BINARY", str(binary))
    prepared = prepare(RunRequest(playbook=PLAYBOOK, inventory=inventory(tmp_path), cwd=tmp_path))
    assert set(prepared.hosts) == {"s1", "a1"}


def test_a_binary_set_per_host_in_the_inventory_is_left_to_run_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLEETKIT_K3S_BINARY", raising=False)
    inv = inventory(tmp_path, extra=", k3s_binary: /somewhere/k3s")
    prepared = prepare(RunRequest(playbook=PLAYBOOK, inventory=inv, cwd=tmp_path))
    assert prepared.hosts
