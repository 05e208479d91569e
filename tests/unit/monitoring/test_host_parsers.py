"""Parsers of /proc files, df and os-release, on files captured from real hosts."""

from __future__ import annotations

import pytest

from fleetkit.monitoring.collectors import host
from fleetkit.monitoring.snapshot import CPU_MODES

from .helpers import fixture_text


def test_loadavg_gives_the_three_averages() -> None:
    load = host.parse_loadavg(fixture_text("debian12-vm/loadavg"))
    assert len(load) == 3
    assert all(0 <= v < 1000 for v in load)
    assert host.parse_loadavg("0.50 1.25 2.00 3/456 789\n") == (0.5, 1.25, 2.0)


@pytest.mark.parametrize("text", ["", "1.0 2.0", "a b c d"])
def test_loadavg_garbage_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        host.parse_loadavg(text)


def test_stat_gives_seconds_per_mode_cpu_count_and_boot_time() -> None:
    text = fixture_text("debian12-vm/stat")
    st = host.parse_stat(text)
    assert set(st.seconds) == set(CPU_MODES)
    first = text.splitlines()[0].split()
    assert st.seconds["user"] == int(first[1]) / 100
    assert st.seconds["idle"] == int(first[4]) / 100
    assert st.cpus == 2
    assert st.boot_time is not None and st.boot_time > 1_600_000_000


def test_stat_counts_many_cpus_and_ignores_guest_columns() -> None:
    st = host.parse_stat(fixture_text("many-cpus/stat"))
    assert st.cpus == 128
    assert "guest" not in st.seconds
    assert st.boot_time == 1_700_000_000


def test_stat_without_per_cpu_lines_leaves_the_count_unknown() -> None:
    st = host.parse_stat("cpu  1 2 3 4 5 6 7 8 9 10\nbtime 5\n")
    assert st.cpus is None
    assert st.seconds["steal"] == 0.08


def test_stat_unreadable_cpu_line_is_a_warning_not_a_crash() -> None:
    warnings: list[str] = []
    st = host.parse_stat("cpu  12 x 4 5\nbtime soon\n", warnings)
    assert st.seconds == {}
    assert st.boot_time is None
    assert len(warnings) == 2


@pytest.mark.parametrize(
    ("text", "count"),
    [("0-1\n", 2), ("0\n", 1), ("0-63,96-127,64-95\n", 128), ("0,2,4-5", 4)],
)
def test_cpu_list_counts_ranges(text: str, count: int) -> None:
    assert host.parse_cpu_list(text) == count


def test_cpu_list_of_the_real_host_and_of_many_cpus() -> None:
    assert host.parse_cpu_list(fixture_text("debian12-vm/cpu_online")) == 2
    assert host.parse_cpu_list(fixture_text("many-cpus/cpu_online")) == 128


def test_meminfo_in_bytes_on_a_host_without_swap() -> None:
    info = host.parse_meminfo(fixture_text("debian12-vm/meminfo"))
    raw = {
        line.split(":")[0]: int(line.split()[1])
        for line in fixture_text("debian12-vm/meminfo").splitlines()
    }
    assert info["MemTotal"] == raw["MemTotal"] * 1024
    assert info["SwapTotal"] == 0
    assert host.memory_available(info) == raw["MemAvailable"] * 1024
    assert info["HugePages_Total"] == raw["HugePages_Total"]  # a count, not kB


def test_memory_available_falls_back_to_free_buffers_cached_on_old_kernels() -> None:
    info = host.parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 2 kB\nCached: 3 kB\n")
    assert host.memory_available(info) == 15 * 1024
    assert host.memory_available({"MemTotal": 1}) is None


def test_meminfo_garbage_lines_are_skipped_with_warnings() -> None:
    warnings: list[str] = []
    info = host.parse_meminfo("MemTotal: 1024 kB\njunk\nMemFree: lots kB\n", warnings)
    assert info == {"MemTotal": 1024 * 1024}
    assert len(warnings) == 2


def test_net_dev_gives_byte_counters_without_loopback() -> None:
    devices = {d.device: d for d in host.parse_net_dev(fixture_text("debian12-vm/net_dev"))}
    assert "lo" not in devices
    assert "eth0" in devices
    line = next(ln for ln in fixture_text("debian12-vm/net_dev").splitlines() if "eth0:" in ln)
    fields = line.split(":", 1)[1].split()
    assert devices["eth0"].receive_bytes == int(fields[0])
    assert devices["eth0"].transmit_bytes == int(fields[8])


def test_net_dev_leaves_out_container_veths_and_survives_short_lines() -> None:
    warnings: list[str] = []
    text = (
        "  eth0: 1 2\n"
        "  vethab12: 5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0\n"
        "  eth1: 100 0 0 0 0 0 0 0 200 0 0 0 0 0 0 0\n"
    )
    devices = host.parse_net_dev(text, warnings)
    assert [(d.device, d.receive_bytes, d.transmit_bytes) for d in devices] == [("eth1", 100, 200)]
    assert len(warnings) == 1


def test_uptime_is_the_first_number() -> None:
    assert host.parse_uptime(fixture_text("debian12-vm/uptime")) > 0
    with pytest.raises(ValueError):
        host.parse_uptime("")


def test_mounts_with_spaces_and_tabs_are_decoded() -> None:
    mounts = {m.mountpoint: m for m in host.parse_mounts(fixture_text("mount-spaces/mounts"))}
    assert mounts["/srv/fk fixture/my disk"].device == "fk-fixture"
    assert mounts["/srv/fkfix-tab"].device == "dev with space"
    assert "/srv/fkfix-tab/a\ttab" in mounts


def test_df_keeps_spaces_in_mount_points() -> None:
    sizes = host.parse_df(fixture_text("mount-spaces/df"))
    assert sizes["/srv/fk fixture/my disk"] == (4194304, 1048576)
    assert sizes["/srv/fkfix-tab"] == (2097152, 2097152)


def test_filesystems_join_mounts_and_df_and_keep_only_real_ones() -> None:
    mounts = host.parse_mounts(fixture_text("mount-spaces/mounts"))
    sizes = host.parse_df(fixture_text("mount-spaces/df"))
    fs = {f.mountpoint: f for f in host.filesystems(mounts, sizes)}
    assert "/" in fs and fs["/"].fstype == "ext4"
    spaced = fs["/srv/fk fixture/my disk"]
    assert (spaced.fstype, spaced.device) == ("tmpfs", "fk-fixture")
    assert spaced.fill_ratio == pytest.approx(0.75)
    assert fs["/srv/fkfix-tab/a\ttab"].size_bytes == 1048576  # df prints the tab as '?'
    for pseudo in ("/proc", "/sys", "/dev", "/dev/shm", "/sys/fs/cgroup"):
        assert pseudo not in fs
    assert list(fs) == sorted(fs)


def test_filesystems_skip_container_runtime_mounts_and_count_a_remount_once() -> None:
    mounts = host.parse_mounts(
        "overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0\n"
        "/dev/sda1 /data ext4 rw 0 0\n"
        "/dev/sdb1 /data xfs rw 0 0\n"
    )
    sizes = {"/var/lib/docker/overlay2/abc/merged": (10, 5), "/data": (100, 50)}
    fs = host.filesystems(mounts, sizes)
    assert [(f.mountpoint, f.device, f.fstype) for f in fs] == [("/data", "/dev/sdb1", "xfs")]


def test_df_garbage_lines_are_warnings() -> None:
    warnings: list[str] = []
    sizes = host.parse_df(
        "Filesystem 1-blocks Used Available Capacity Mounted on\n%%%%\n", warnings
    )
    assert sizes == {}
    assert len(warnings) == 1


def test_real_host_filesystems_have_sizes() -> None:
    mounts = host.parse_mounts(fixture_text("debian12-vm/mounts"))
    fs = host.filesystems(mounts, host.parse_df(fixture_text("debian12-vm/df")))
    root = next(f for f in fs if f.mountpoint == "/")
    assert root.size_bytes > root.avail_bytes > 0


def test_os_release_prefers_pretty_name() -> None:
    assert host.parse_os_release(fixture_text("debian12-vm/os-release")) == (
        "Debian GNU/Linux 12 (bookworm)"
    )
    assert (
        host.parse_os_release('NAME="Alpine Linux"\nVERSION_ID=3.20.1\n') == "Alpine Linux 3.20.1"
    )
    assert host.parse_os_release("garbage") == ""
