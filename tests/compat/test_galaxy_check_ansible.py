"""`fleetkit galaxy check` against `ansible-galaxy collection install --offline` (2.19).

Collections are written on disk (an installed build with MANIFEST.json, a source
checkout with galaxy.yml, a pre-release); for each requirement form,
ansible-galaxy --offline (which contacts no server) says "Nothing to do" exactly
when fleetkit says the requirement is installed, and fails otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.compat.harness import BIN

from fleetkit.galaxy.check import check_file
from fleetkit.galaxy.requirements import Status

pytestmark = pytest.mark.compat

REQUIREMENTS = [
    "acme.tools",
    "{name: acme.tools, version: '>=1.0.0,<2.0.0'}",
    "{name: acme.tools, version: 2.0.0}",
    "{name: acme.tools, version: '1.2'}",
    "{name: acme.tools, version: '==1.2.0'}",
    "{name: acme.tools, version: '!=1.2.0'}",
    "{name: acme.tools, version: '>1.1.9,<=1.2.0'}",
    "{name: acme.tools, version: '<1.2.0'}",
    "acme.src",
    "{name: acme.src, version: 0.3.0}",
    "{name: acme.src, version: '>0.3.0'}",
    "acme.pre",
    "{name: acme.pre, version: '>=1.0.0'}",
    "{name: acme.pre, version: 1.3.0-beta.1}",
    "{name: acme.pre, version: '>=1.3.0'}",
    "nope.missing",
]


def _collections(root: Path) -> None:
    base = root / "ansible_collections" / "acme"
    for name, manifest in (("tools", "1.2.0"), ("pre", "1.3.0-beta.1")):
        (base / name).mkdir(parents=True)
        info = {"namespace": "acme", "name": name, "version": manifest, "dependencies": {}}
        (base / name / "MANIFEST.json").write_text(
            json.dumps({"collection_info": info, "format": 1})
        )
    (base / "src").mkdir(parents=True)
    (base / "src" / "galaxy.yml").write_text(
        "namespace: acme\nname: src\nversion: 0.3.0\nreadme: README.md\nauthors: [x]\n"
    )


def _ansible_galaxy_is_satisfied(req: Path, root: Path, tmp: Path) -> bool:
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(root),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
    }
    command = [str(BIN / "ansible-galaxy"), "collection", "install", "-r", str(req)]
    proc = subprocess.run(
        [*command, "--offline", "-p", str(root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc.returncode == 0 and "Nothing to do" in proc.stdout


def test_installed_means_what_ansible_galaxy_offline_means(tmp_path: Path) -> None:
    if not (BIN / "ansible-galaxy").exists():
        pytest.fail("ansible-galaxy is not installed (pip install -e '.[test]')")
    root = tmp_path / "colls"
    _collections(root)
    files = []
    for index, entry in enumerate(REQUIREMENTS):
        req = tmp_path / f"req{index}.yml"
        req.write_text(f"collections:\n  - {entry}\n")
        files.append(req)
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda r: _ansible_galaxy_is_satisfied(r, root, tmp_path), files))
    differences = []
    for entry, req, theirs in zip(REQUIREMENTS, files, answers, strict=True):
        (finding,) = check_file(req, cwd=tmp_path, roles_path=[], collections_path=[root])
        if theirs != (finding.status is Status.OK):
            differences.append(f"{entry}: ansible-galaxy {theirs}, fleetkit {finding.status}")
    assert sorted(p.name for p in (root / "ansible_collections" / "acme").iterdir()) == [
        "pre",
        "src",
        "tools",
    ]  # --offline installed nothing
    assert not differences, differences
    print(f"galaxy check vs ansible-galaxy: {len(REQUIREMENTS)} requirements, 0 different")


def test_installed_roles_and_versions_are_the_ones_ansible_galaxy_lists(tmp_path: Path) -> None:
    if not (BIN / "ansible-galaxy").exists():
        pytest.fail("ansible-galaxy is not installed (pip install -e '.[test]')")
    roles = tmp_path / "roles_path"
    for name, version in (("acme.web", "2.1.0"), ("geerlingguy.x", "v1.0"), ("plain", None)):
        (roles / name / "meta").mkdir(parents=True)
        (roles / name / "meta" / "main.yml").write_text("galaxy_info: {author: x}\n")
        if version:
            (roles / name / "meta" / ".galaxy_install_info").write_text(
                f"install_date: 'Mon Jan  1 00:00:00 2024'\nversion: {version}\n"
            )
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [str(BIN / "ansible-galaxy"), "role", "list", "-p", str(roles)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    theirs = {}
    for line in proc.stdout.splitlines():
        if line.startswith("- "):
            name, _, version = line[2:].partition(", ")
            theirs[name] = None if version == "(unknown version)" else version
    req = tmp_path / "requirements.yml"
    req.write_text("roles:\n" + "".join(f"  - {name}\n" for name in sorted(theirs)))
    found = check_file(req, cwd=tmp_path, roles_path=[roles], collections_path=[])
    ours = {f.requirement.name: f.installed for f in found if f.status is Status.OK}
    assert ours == theirs == {"acme.web": "2.1.0", "geerlingguy.x": "v1.0", "plain": None}
