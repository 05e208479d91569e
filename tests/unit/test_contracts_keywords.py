"""docs/contracts.md lists exactly the playbook keywords and modules the loader accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleetkit.modules.registry import ALIASES, MODULES, PREFIXES
from fleetkit.modules.swarm_modules import LEGACY_NAMES
from fleetkit.playbook import schema
from fleetkit.playbook.load import ACTIONS

pytestmark = pytest.mark.unit

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"
SECTION = "## Supported keywords and modules"


def _items() -> dict[str, list[str]]:
    """label -> backticked names of each `- label: ...` item of the section."""
    text = CONTRACTS.read_text()
    assert SECTION in text, f"docs/contracts.md has no {SECTION!r} section"
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    items: dict[str, list[str]] = {}
    for item in re.split(r"\n(?=- )", body):
        if not item.startswith("- "):
            continue
        label, _, rest = " ".join(item.split()).partition(": ")
        items[label[2:]] = re.findall(r"`([^`]+)`", rest)
    return items


def _pairs(names: list[str]) -> dict[str, str]:
    return dict(zip(names[::2], names[1::2], strict=True))


@pytest.mark.parametrize(
    ("label", "table"),
    [
        ("Play keywords", schema.PLAY_KEYWORDS),
        ("Block keywords", schema.BLOCK_KEYWORDS),
        ("Task keywords", schema.TASK_KEYWORDS),
        ("Handler keywords (task keywords and)", schema.HANDLER_KEYWORDS - schema.TASK_KEYWORDS),
        ("Include and import actions (tasks)", frozenset(ACTIONS)),
        ("Native modules", frozenset(MODULES) - frozenset(LEGACY_NAMES)),
        ("Collection prefixes stripped before lookup", frozenset(PREFIXES)),
    ],
)
def test_each_list_is_its_table(label: str, table: frozenset[str]) -> None:
    listed = _items().get(label)
    assert listed is not None, f"no '- {label}:' item in {SECTION!r}"
    assert sorted(listed) == sorted(table)


def test_aliases_and_old_names_are_listed_with_their_targets() -> None:
    items = _items()
    assert _pairs(items["Module aliases"]) == dict(ALIASES)
    assert _pairs(items["Older fleetkit names still accepted"]) == dict(LEGACY_NAMES)
