"""The inventory differential: every case in tests/compat/inventory_cases/ read by
ansible-core 2.19 and by fleetkit, compared on --list, --list --export, --graph,
--host and patterns/limits (tests/compat/inventory_diff.py).

A difference fails unless its rule id is one docs/contracts.md lists under
"Inventory: deliberate differences". Cases run in a process pool (one ansible
process per case), so the layer takes seconds on 2 cores.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from tests.compat.inventory_diff import BIN, RULES, Answer, run_case

pytestmark = pytest.mark.compat

CASES = Path(__file__).parent / "inventory_cases"
CONTRACTS = Path(__file__).parents[2] / "docs" / "contracts.md"


def _all_cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "cases.yml").is_file())


def test_every_inventory_case_reads_the_same_under_ansible_core_and_fleetkit() -> None:
    if not (BIN / "ansible-inventory").exists():
        pytest.fail("ansible-core is not installed (pip install -e '.[test]')")
    cases = _all_cases()
    assert len(cases) >= 60
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        answers: list[Answer] = [a for found in pool.map(run_case, cases) for a in found]
    counts = Counter(a.verdict for a in answers)
    print(
        f"\ninventory differential: {len(cases)} cases, {len(answers)} answers:"
        f" same {counts['same']}, deliberate {counts['deliberate']},"
        f" different {counts['different']} ({time.monotonic() - started:.1f}s)"
    )
    different = [a for a in answers if a.verdict == "different"]
    report = "\n".join(
        f"{a.case} [{a.query}]\n  ansible:  {a.ansible!r}\n  fleetkit: {a.fleetkit!r}"
        for a in different
    )
    assert not different, f"{len(different)} answers differ from ansible-core:\n{report}"
    used = {a.rule for a in answers if a.verdict == "deliberate"}
    assert used <= set(RULES), f"unknown rules: {used - set(RULES)}"


def test_every_deliberate_rule_is_listed_in_the_contract() -> None:
    text = CONTRACTS.read_text()
    section = text.split("### Inventory: deliberate differences", 1)
    assert len(section) == 2, "docs/contracts.md has no 'Inventory: deliberate differences'"
    listed = set(re.findall(r"`([a-z-]+)`:", section[1].split("\n## ", 1)[0]))
    assert set(RULES) <= listed, f"rules not in docs/contracts.md: {set(RULES) - listed}"
    for case in _all_cases():
        from tests.compat.inventory_diff import load_case

        assert set(load_case(case)["deliberate"].values()) <= set(RULES), case.name
