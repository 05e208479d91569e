"""Input files are bounded: regular files only (a FIFO or device is refused, never read),
at most the size cap, for every path a user names (inventory, group_vars, -e @FILE,
-l @FILE)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.support import fleetkit
from tests.unit.reliability.bound import within

from fleetkit import safeio
from fleetkit.errors import InventoryError, PatternError, UsageError
from fleetkit.inventory.extra_vars import parse_extra_vars
from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.select import select_hosts

pytestmark = pytest.mark.unit


@pytest.fixture
def inv_dir(tmp_path: Path) -> Path:
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.ini").write_text("[web]\nweb1\nweb2\n")
    return inv


def test_a_group_vars_fifo_is_refused_without_blocking(inv_dir: Path) -> None:
    os.mkfifo(inv_dir / "group_vars" / "web.yml")
    with within(5), pytest.raises(InventoryError, match="FIFO") as err:
        load_inventory(inv_dir)
    assert str(err.value.position).endswith("group_vars/web.yml")


def test_a_fifo_inside_a_group_vars_folder_is_refused_too(inv_dir: Path) -> None:
    (inv_dir / "group_vars" / "web").mkdir()
    os.mkfifo(inv_dir / "group_vars" / "web" / "main.yml")
    with within(5), pytest.raises(InventoryError, match="FIFO"):
        load_inventory(inv_dir)


def test_a_group_vars_link_to_dev_zero_is_refused(inv_dir: Path) -> None:
    (inv_dir / "group_vars" / "web.yml").symlink_to("/dev/zero")
    with within(5), pytest.raises(InventoryError, match="character device"):
        load_inventory(inv_dir)


def test_limit_and_extra_vars_files_from_dev_zero_are_refused(inv_dir: Path) -> None:
    inv = load_inventory(inv_dir)
    with within(5), pytest.raises(PatternError, match="limit file: it is a character device"):
        select_hosts(inv, "all", "@/dev/zero")
    with within(5), pytest.raises(UsageError, match="character device"):
        parse_extra_vars(["@/dev/zero"], inv_dir)


def test_a_file_over_the_cap_is_refused_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(safeio.LIMIT_ENV, "1")  # 1 MiB
    big = tmp_path / "extra.yml"
    big.write_text("x: " + "a" * (1024 * 1024) + "\n")
    with pytest.raises(UsageError, match=r"larger than the 1 MiB input limit") as err:
        parse_extra_vars(["@extra.yml"], tmp_path)
    assert err.value.hint is not None and safeio.LIMIT_ENV in err.value.hint
    monkeypatch.setenv(safeio.LIMIT_ENV, "2")
    assert len(parse_extra_vars(["@extra.yml"], tmp_path)["x"]) == 1024 * 1024


def test_the_default_cap_is_16_mib_and_a_growing_file_is_cut_at_the_cap(tmp_path: Path) -> None:
    assert safeio.max_file_bytes() == 16 * 1024 * 1024
    path = tmp_path / "f"
    path.write_bytes(b"x" * 101)
    with pytest.raises(InventoryError, match="larger than the 100 bytes"):
        safeio.read_bytes(path, InventoryError, limit=100)
    assert safeio.read_bytes(path, InventoryError, limit=101) == b"x" * 101
    # /proc files report size 0: the read itself is counted
    with pytest.raises(InventoryError, match="larger than"):
        safeio.read_bytes(Path("/proc/self/maps"), InventoryError, limit=10)


def test_non_utf8_text_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.yml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InventoryError, match="not UTF-8") as err:
        safeio.read_text(path, InventoryError)
    assert str(err.value.position).endswith("a.yml:2")


def test_cli_exits_2_for_a_fifo_inventory_and_dev_zero_limit(inv_dir: Path) -> None:
    os.mkfifo(inv_dir / "group_vars" / "all.yml")
    done = fleetkit("inventory", "-i", str(inv_dir), "--list", timeout=30)
    assert done.returncode == 2, done.stderr
    assert "FIFO" in done.stderr and "Traceback" not in done.stderr
    os.unlink(inv_dir / "group_vars" / "all.yml")
    done = fleetkit("inventory", "-i", str(inv_dir), "-l", "@/dev/zero", timeout=30)
    assert done.returncode == 2 and "character device" in done.stderr, done.stderr
    done = fleetkit("inventory", "-i", str(inv_dir), "-e", "@/dev/zero", timeout=30)
    assert done.returncode == 2 and "character device" in done.stderr, done.stderr
