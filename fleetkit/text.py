"""Words users type for yes/no and the "did you mean" tail: one spelling for every layer.

No fleetkit imports, so inventory, connection, module, playbook and CLI code can
all use it without reversing an import direction.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

TRUE_WORDS = frozenset({"yes", "true", "on", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "off", "0", "n", ""})


def to_bool(value: Any) -> bool:
    """YAML-ish truth: yes/no/true/false/on/off/1/0 (strings any case), bools, 0/1.

    Anything else is a ValueError, for the caller to turn into its own error.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(f"expected a boolean (yes/no/true/false), got {value!r}")


def truthy(value: Any) -> bool:
    """Lenient truth, as playbooks mean it: a string is true unless it is a false word."""
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return bool(value)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt name, if one is close enough."""
    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" when a candidate is close to name, else ""."""
    return suggestion_tail(suggest(name, sorted(candidates)))


def suggestion_tail(close: str | None) -> str:
    """The one spelling of the "did you mean" tail, for a suggestion found another way."""
    return f" (did you mean '{close}'?)" if close else ""
