"""The probe script and the defensive parsing of its output."""

from __future__ import annotations

import random
import subprocess

import pytest

from fleetkit.connection.local import LocalConnection
from fleetkit.monitoring.probe import parse_probe, probe_script, split_proc, split_sections

from .helpers import fixture_text

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("manager", "server"), [(False, False), (True, False), (True, True)])
def test_every_probe_variant_is_valid_posix_sh(manager: bool, server: bool) -> None:
    script = probe_script(swarm_manager=manager, k8s_server=server)
    subprocess.run(["sh", "-n"], input=script, text=True, check=True)
    assert "echo '@@fk@@ end'\n)\n" in script  # the end marker closes the captured output


def test_probe_run_on_this_machine_parses_without_warnings() -> None:
    result = LocalConnection("here").run(probe_script(), timeout=20)
    assert result.rc == 0, result.stderr
    snap = parse_probe("here", result.stdout, now=NOW).host
    assert snap.warnings == ()
    assert snap.up and snap.load is not None and snap.cpus
    assert snap.memory_total_bytes and snap.memory_available_bytes
    assert any(f.mountpoint == "/" for f in snap.filesystems)
    assert snap.kernel and snap.os
    assert snap.boot_time_seconds and snap.boot_time_seconds < NOW


def test_probe_output_is_small() -> None:
    """One round trip per host per cycle: keep it a few kilobytes."""
    result = LocalConnection("here").run(probe_script(), timeout=20)
    assert len(result.stdout) < 32_000
    assert len(probe_script(swarm_manager=True, k8s_server=True)) < 8_000


def test_captured_probe_gives_every_host_field() -> None:
    text = fixture_text("debian12-vm/probe.txt")
    snap = parse_probe("lab1", text, now=NOW, groups=("managers",), duration_s=0.02).host
    assert snap.warnings == ()
    assert snap.groups == ("managers",)
    assert snap.collect_duration_s == 0.02 and snap.last_success == NOW
    assert snap.os == "Debian GNU/Linux 12 (bookworm)"
    assert snap.cpus == 2
    assert set(snap.cpu_seconds) == {
        "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"
    }  # fmt: skip
    assert snap.containers is None  # docker absent on that host
    assert snap.network and all(d.device != "lo" for d in snap.network)


def test_sections_split_on_markers_and_drop_login_noise() -> None:
    sections, complete = split_sections("motd\n@@fk@@ a\n1\n2\n@@fk@@ b\n@@fk@@ end\n")
    assert sections == {"a": "1\n2\n", "b": ""}
    assert complete


def test_proc_lines_are_grouped_by_file() -> None:
    files = split_proc("/proc/loadavg:1 2 3\n/proc/unknown:x\nnoise\n/proc/uptime:5 6\n")
    assert files == {"loadavg": "1 2 3\n", "uptime": "5 6\n"}


def test_garbage_output_yields_what_could_be_parsed_and_warnings() -> None:
    result = parse_probe("bad", fixture_text("garbage/probe.txt"), now=NOW)
    snap = result.host
    assert snap.up
    assert snap.load is None
    assert snap.memory_total_bytes == 1024 * 1024
    assert [(d.device, d.receive_bytes) for d in snap.network] == [("eth1", 100)]
    assert [(f.mountpoint, f.size_bytes, f.avail_bytes) for f in snap.filesystems] == [
        ("/", 1000, 600)
    ]
    assert snap.containers == ()
    joined = " | ".join(snap.warnings)
    for what in ("incomplete", "loadavg", "stat", "meminfo", "docker", "df"):
        assert what in joined
    assert result.swarm is None and "unreadable" in result.swarm_error


def test_truncated_output_keeps_the_complete_files(caplog: pytest.LogCaptureFixture) -> None:
    snap = parse_probe("cut", fixture_text("garbage/truncated.txt"), now=NOW).host
    assert snap.load == (0.1, 0.2, 0.3)
    assert snap.memory_available_bytes == (512000 + 10000 + 100000) * 1024
    assert snap.boot_time_seconds == 1_700_000_000
    assert "probe output incomplete (no end marker)" in snap.warnings
    assert "cut:" in caplog.text  # logged once, as a warning


def test_random_garbage_never_raises() -> None:
    rng = random.Random(5)
    pieces = [
        *fixture_text("debian12-vm/probe.txt").splitlines(),
        "@@fk@@ proc", "@@fk@@ df", "@@fk@@ docker", "@@fk@@ swarm_node", "@@fk@@ k8s",
        "C|x|y", "S|x|1|", "/proc/stat:cpu  a", "/proc/meminfo:MemTotal:", "\x00\xff", "{",
    ]  # fmt: skip
    for _ in range(300):
        lines = [rng.choice(pieces)[: rng.randint(0, 80)] for _ in range(rng.randint(0, 40))]
        result = parse_probe("fuzz", "\n".join(lines), now=NOW)
        assert result.host.host == "fuzz"


def test_empty_output_is_up_with_warnings_only() -> None:
    snap = parse_probe("mute", "", now=NOW).host
    assert snap.up and snap.load is None and snap.filesystems == ()
    assert any("no /proc section" in w for w in snap.warnings)
