"""Each tests/compat/cases/* playbook run by ansible-playbook and by fleetkit on localhost.

Both write what they observed under their own -e outdir=...; the written files
(content and mode) and the recaps (ok/changed/failed/skipped/rescued/ignored per
host) must be the same, unless docs/contracts.md lists the difference as
deliberate. Ansible counts a changed task in ok too: its ok is compared with
fleetkit's ok + changed. Cases run in parallel to keep the layer short.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.compat.harness import BIN, compare_case

pytestmark = pytest.mark.compat

CASES = Path(__file__).parent / "cases"
DELIBERATE: dict[str, dict[str, tuple[int, int]]] = {}
"""case -> key -> (ansible, fleetkit) for differences docs/contracts.md lists."""


def test_every_case_ends_the_same_under_ansible_playbook_and_fleetkit(tmp_path: Path) -> None:
    if not (BIN / "ansible-playbook").exists():
        pytest.fail("ansible-playbook is not installed (pip install -e '.[test]')")
    cases = sorted(p for p in CASES.iterdir() if (p / "site.yml").is_file())
    assert len(cases) >= 6
    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(lambda c: compare_case(c, tmp_path, deliberate=DELIBERATE), cases))
    bad = {name: problems for name, problems in results if problems}
    assert not bad, json.dumps(bad, indent=1)
