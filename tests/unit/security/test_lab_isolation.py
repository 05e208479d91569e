"""What `lab up` gives a lab host and what `lab down` takes away (issue 12, finding 8).

Lab hosts share the machine's kernel and run as the machine's root, so they are
no security boundary (docs/contracts.md "The lab"); these keep accidents on a lab
host from reaching the machine and the lab's own tools from being turned against it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleetkit.errors import LabError
from fleetkit.lab import checks, hostfs, procs
from fleetkit.lab.down import split_lab_processes
from fleetkit.lab.host import enter_argv, host_fstab, host_script
from fleetkit.lab.inventory_writer import HEADER, check_target
from fleetkit.lab.layout import LabPaths, host_specs

pytestmark = pytest.mark.unit


def test_lab_down_spares_a_shell_an_operator_entered_the_lab_with() -> None:
    # 10: sshd (recorded); 11, 12: sessions; 20: a shim re-parented to init, 21 its
    # container; 30: the operator's terminal shell outside, 31 its nsenter'd bash in
    # the lab, 32 a command run from it; 40: an unrelated machine process
    parent = {10: 500, 11: 10, 12: 11, 20: 1, 21: 20, 30: 2, 31: 30, 32: 31, 40: 1}
    inside = {10, 11, 12, 20, 31, 32}
    lab, visitors = split_lab_processes(inside, {10}, parent)
    assert lab == [10, 11, 12, 20, 21]
    assert visitors == [31, 32]


def test_the_lab_finds_its_root_tools_in_system_folders_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "ip"
    planted.write_text("#!/bin/sh\necho pwned\n")
    planted.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    found = checks.which("ip")
    assert found is None or not found.startswith(str(tmp_path))


def test_lab_hosts_get_no_password_hash_of_the_machine() -> None:
    template = hostfs.make_template(host_specs(1), "ssh-ed25519 AAAA test", docker=False)
    for line in template.shadow.splitlines():
        assert line.split(":")[1] in ("*", ""), line.split(":")[0]
    machine = hostfs.read_machine_file("/etc/shadow")
    hashes = {ln.split(":")[1] for ln in machine.splitlines() if ln.count(":") > 1}
    hashes -= {"*", "!", "!*", "", "x"}
    assert not any(h in template.shadow for h in hashes)
    assert all(ln.split(":")[1] == "!" for ln in template.gshadow.splitlines() if ln)


def test_lab_hosts_overlay_usr() -> None:
    assert "usr" in hostfs.OVERLAY_DIRS
    assert hostfs.OVERLAY_DIRS[-1] == "var"  # the other upper dirs are reached through /var


def test_inventory_out_never_overwrites_a_file_the_lab_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "lab.yml"
    check_target(mine)  # missing: fine
    mine.write_text(HEADER + "all: {}\n")
    check_target(mine)  # an earlier lab's: fine
    other = tmp_path / "hosts"
    other.write_text("127.0.0.1 localhost\n")
    with pytest.raises(LabError, match="not written by `fleetkit lab up`"):
        check_target(other)
    link = tmp_path / "link.yml"
    link.symlink_to(mine)
    with pytest.raises(LabError, match="symbolic link"):
        check_target(link)
    with pytest.raises(LabError, match="not a regular file"):
        check_target(tmp_path)


def test_machine_folders_no_host_overlays_are_bound_read_only(tmp_path: Path) -> None:
    for name in ("work", "mnt", "etc", "usr", "proc", "tmp", "has space"):
        (tmp_path / name).mkdir()
    (tmp_path / "bin").symlink_to("usr/bin")
    (tmp_path / "file.json").write_text("{}")
    assert hostfs.read_only_dirs(tmp_path) == ["mnt", "work"]


def test_a_host_detaches_the_lab_secrets_and_makes_its_root_read_only() -> None:
    paths, spec = LabPaths(), host_specs(1)[0]
    script = host_script(paths, spec).splitlines()
    assert f"umount -l {paths.secret_dir}" in script  # no `|| true`: a failure stops lab up
    assert script.index(f"umount -l {paths.secret_dir}") < script.index(
        f"mount -a -T {paths.host_dir(spec.name) / 'fstab'}"
    )
    assert script[-2:] == [
        "mount -o remount,bind,ro /",
        f"echo {spec.name} > /proc/sys/kernel/hostname",
    ]
    assert paths.key.parent == paths.secret_dir
    fstab = host_fstab(paths, spec)
    for name in hostfs.read_only_dirs():
        assert f"/{name} /{name} none bind,ro 0 0" in fstab


def test_every_command_entering_a_host_enters_its_pid_namespace() -> None:
    paths, spec = LabPaths(), host_specs(1)[0]
    tools = checks.cleanup_tools() if os.geteuid() == 0 else None
    if tools is None:
        pytest.skip("cleanup_tools needs root")
    argv = enter_argv(tools, paths, spec)
    assert f"--pid={paths.pid_ns(spec.name)}" in argv and argv[-1] == "--"


def test_only_a_namespace_init_is_killed_without_sigterm_first() -> None:
    assert not procs.is_namespace_init(os.getpid())
    assert not procs.is_namespace_init(2**22 + 1)  # no such process
