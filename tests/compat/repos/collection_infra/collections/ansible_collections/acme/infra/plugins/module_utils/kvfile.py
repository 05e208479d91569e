# Copyright: acme infra team
# MIT License
"""Parse and render key/value files, keeping comments and order."""

from __future__ import annotations


def parse(text, separator):
    """Lines of text as (key or None, raw line) pairs."""
    out = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or separator not in stripped:
            out.append((None, raw))
            continue
        key = stripped.split(separator, 1)[0].strip()
        out.append((key, raw))
    return out


def value_of(lines, key, separator):
    for k, raw in lines:
        if k == key:
            return raw.split(separator, 1)[1].strip()
    return None


def render(lines, key, value, separator, spaced):
    """The file text with key set to value (None removes it)."""
    sep = " %s " % separator if spaced else separator
    wanted = None if value is None else "%s%s%s" % (key, sep, value)
    out, seen = [], False
    for k, raw in lines:
        if k == key:
            if wanted is not None and not seen:
                out.append(wanted)
            seen = True
            continue
        out.append(raw)
    if wanted is not None and not seen:
        out.append(wanted)
    return "".join(line + "\n" for line in out)
