"""Loops, lookups, retries, meta, host keywords and the listing options: each
tests/compat/loops/* case run by ansible-playbook and by fleetkit on local hosts.

Each case writes what it observed under -e outdir=...; the files and the recaps per
host must be the same (tests/compat/harness.py), unless docs/contracts.md
("Loops, lookups and meta") lists the difference as deliberate. The listing
options (--list-hosts/--list-tasks/--list-tags/--syntax-check) print the same
text as ansible-playbook's for a playbook whose tasks are all named, and exit 0.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.compat.harness import BIN, ansible_playbook, compare_case, fleetkit_run, inventory

pytestmark = pytest.mark.compat

CASES = Path(__file__).parent / "loops"
TWO_HOSTS = ("localhost", "other")
HOSTS = {
    "meta": TWO_HOSTS,
    "hosts": TWO_HOSTS,
    "listing": TWO_HOSTS,
    "start": TWO_HOSTS,
    "with_lookups": TWO_HOSTS,
}
DELIBERATE: dict[str, dict[str, tuple[int, int]]] = {}
"""case -> key -> (ansible, fleetkit) for differences docs/contracts.md lists."""


def _need_ansible() -> None:
    if not (BIN / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed (pip install -e '.[test]')")


def test_every_loop_case_ends_the_same_under_ansible_playbook_and_fleetkit(
    tmp_path: Path,
) -> None:
    _need_ansible()
    cases = sorted(p for p in CASES.iterdir() if (p / "site.yml").is_file())
    assert len(cases) >= 8
    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(
            pool.map(
                lambda c: compare_case(
                    c, tmp_path, hosts=HOSTS.get(c.name, ("localhost",)), deliberate=DELIBERATE
                ),
                cases,
            )
        )
    bad = {name: problems for name, problems in results if problems}
    assert not bad, json.dumps(bad, indent=1)


def _hosts_sorted(text: str) -> list[str]:
    """The listing's lines with each play's host lines sorted (ansible-playbook prints
    them from a set, in no stable order; fleetkit in inventory order)."""
    out: list[str] = []
    hosts: list[str] = []
    for line in text.rstrip().splitlines():
        in_hosts = bool(hosts) or (bool(out) and out[-1].lstrip().startswith("hosts ("))
        if in_hosts and line.startswith("      ") and "\t" not in line and "TAGS" not in line:
            hosts.append(line)
            continue
        out += sorted(hosts)
        hosts = []
        out.append(line)
    return out + sorted(hosts)


@pytest.mark.parametrize(
    "args",
    [
        ["--list-hosts"],
        ["--list-tasks"],
        ["--list-tags"],
        ["--list-tasks", "--tags", "a,debugme"],
        ["--list-hosts", "--list-tasks", "--list-tags"],
        ["--syntax-check"],
    ],
)
def test_listings_print_what_ansible_playbook_prints_and_touch_no_host(
    tmp_path: Path, args: list[str]
) -> None:
    _need_ansible()
    work = tmp_path / "src"
    shutil.copytree(CASES / "listing", work)
    inv = inventory(tmp_path, TWO_HOSTS)
    extra = ["-e", f"outdir={tmp_path / 'out'}"]
    ours = fleetkit_run(work, inv, [*args, *extra])
    theirs = ansible_playbook(work, inv, [*args, *extra], tmp_path)
    assert (ours.returncode, theirs.returncode) == (0, 0), ours.stderr + theirs.stderr
    assert _hosts_sorted(ours.stdout) == _hosts_sorted(theirs.stdout)
    assert not (tmp_path / "out").exists()
