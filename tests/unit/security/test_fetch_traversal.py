"""Finding 1: fetch never writes outside dest/<host>/ (flat: dest), whatever src or host say.

The "host" is the local shell (LocalConnection), so a `src` that climbs with `..`
reads a real file, as a compromised host's answer would, and the test looks at
what landed on the controller's disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.connection.local import LocalConnection
from fleetkit.errors import InventoryError
from fleetkit.inventory.load import load_inventory
from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleContext, ModuleResult
from fleetkit.modules.fetch import Fetch, local_path
from fleetkit.playbook.render import Renderer

pytestmark = pytest.mark.unit


def fetch(tmp_path: Path, host: str, **args: object) -> ModuleResult:
    args, errors = prepare(Fetch(), args)
    assert not errors, errors
    ctx = ModuleContext(
        host=host,
        conn=LocalConnection(host),
        args=args,
        variables={},
        templar=Renderer(),
        playbook_dir=tmp_path,
    )
    return Fetch().run(ctx)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    path = tmp_path / "remote" / "payload.txt"
    path.parent.mkdir()
    path.write_text("host-chosen content\n")
    return path


def test_a_src_climbing_with_dotdot_is_refused_and_nothing_is_written(
    tmp_path: Path, payload: Path
) -> None:
    dest = tmp_path / "out" / "dest"
    dest.mkdir(parents=True)
    before = files_under(tmp_path)
    # on the host "/../../x" is /x; joined under dest/h1/ it would climb to dest's parent
    src = "/../../" + str(payload).lstrip("/")
    result = fetch(tmp_path, "h1", src=src, dest=str(dest))
    assert result.failed
    assert ".." in result.msg
    assert files_under(tmp_path) == before


def test_a_host_named_with_slashes_cannot_write_outside_dest(tmp_path: Path, payload: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    before = files_under(tmp_path)
    result = fetch(tmp_path, "../escaped", src=str(payload), dest=str(dest))
    assert result.failed
    assert files_under(tmp_path) == before
    assert not (tmp_path / "escaped").exists()


def test_a_symlink_inside_dest_pointing_out_is_not_followed(tmp_path: Path, payload: Path) -> None:
    dest = tmp_path / "dest"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dest / "h1").mkdir(parents=True)
    first = str(payload.parent).lstrip("/").split("/")[0]
    (dest / "h1" / first).symlink_to(elsewhere)  # dest/h1/<first part of src> -> elsewhere
    result = fetch(tmp_path, "h1", src=str(payload), dest=str(dest))
    assert result.failed
    assert "outside" in result.msg
    assert not any(elsewhere.rglob("*"))


def test_a_normal_fetch_still_lands_under_dest_host_path(tmp_path: Path, payload: Path) -> None:
    dest = tmp_path / "dest"
    result = fetch(tmp_path, "h1", src=str(payload), dest=str(dest))
    assert not result.failed, result.msg
    written = dest / "h1" / str(payload).lstrip("/")
    assert written.read_text() == "host-chosen content\n"
    assert fetch(tmp_path, "h1", src=str(payload), dest=str(dest)).changed is False


def test_flat_uses_the_basename_only(tmp_path: Path, payload: Path) -> None:
    dest = tmp_path / "flat"
    dest.mkdir()
    src = str(payload.parent / "x" / ".." / "payload.txt")
    (payload.parent / "x").mkdir()
    result = fetch(tmp_path, "h1", src=src, dest=f"{dest}/", flat=True)
    assert not result.failed, result.msg
    assert files_under(dest) == {dest / "payload.txt"}


@pytest.mark.parametrize("src", ["/etc/..", "/", "."])
def test_flat_refuses_a_src_without_a_file_name(tmp_path: Path, src: str) -> None:
    with pytest.raises(ValueError, match="no file name"):
        local_path(f"{tmp_path}/", "h1", src, True)


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", "evil\x00"])
def test_inventory_refuses_host_names_that_are_not_one_path_part(tmp_path: Path, name: str) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text(f'all:\n  hosts:\n    "{name.replace(chr(0), chr(92) + "0")}": {{}}\n')
    with pytest.raises(InventoryError, match="invalid host name"):
        load_inventory(inv)


def test_inventory_refuses_a_slash_host_in_ini_too(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\n../../etc\n")
    with pytest.raises(InventoryError, match="invalid host name"):
        load_inventory(inv)
