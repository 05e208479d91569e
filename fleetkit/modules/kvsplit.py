"""Tiny helpers for modules that take a command-like free-form string."""

from __future__ import annotations

import shlex


def first_word(text: str) -> tuple[str, str]:
    """('path/to/script.sh', 'its args as written') from 'path/to/script.sh its args'."""
    text = text.strip()
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if not words:
        return "", ""
    head = words[0]
    rest = text[len(text.split(None, 1)[0]) :].strip()
    return head, rest
