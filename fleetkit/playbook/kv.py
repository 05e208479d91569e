"""Module arguments written as one string: `src=a dest="b c"` or a free-form command.

Splitting respects quotes and Jinja2 braces, so `msg="{{ a | default('x y') }}"`
stays one argument.
"""

from __future__ import annotations

import re
from typing import Any

from fleetkit.errors import PlaybookError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_TEMPLATED_KEY = re.compile(
    r"^(?:[A-Za-z0-9_]|\{\{.*?\}\})*\{\{.*?\}\}(?:[A-Za-z0-9_]|\{\{.*?\}\})*="
)
"""A key=value word whose key holds a template (`{{ prefix }}_port=1`, set_fact's)."""
COMMAND_OPTIONS = ("creates", "removes", "chdir", "executable", "stdin")


def split_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word: split on whitespace outside quotes and Jinja2 blocks."""
    spans: list[tuple[int, int]] = []
    begin = -1
    quote = ""
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        pair = text[i : i + 2]
        step = 1
        if quote:
            if ch == "\\":
                step = 2
            elif ch == quote:
                quote = ""
        elif pair in ("{{", "{%", "{#"):
            depth += 1
            step = 2
        elif pair in ("}}", "%}", "#}") and depth:
            depth -= 1
            step = 2
        elif ch in "\"'" and not depth:
            quote = ch
        elif ch.isspace() and not depth:
            if begin >= 0:
                spans.append((begin, i))
                begin = -1
            i += 1
            continue
        if begin < 0:
            begin = i
        i += step
    if quote:
        raise PlaybookError(f"unbalanced quote in {text!r}")
    if begin >= 0:
        spans.append((begin, len(text)))
    return spans


def split_words(text: str) -> list[str]:
    """The words of text (see split_spans)."""
    return [text[a:b] for a, b in split_spans(text)]


def unquote(value: str) -> str:
    """Strip one pair of matching outer quotes (and their escapes)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.replace("\\" + value[0], value[0]).replace("\\\\", "\\")
    return value


def is_kv(word: str) -> bool:
    return bool(_KEY.match(word))


def parse_kv(text: str) -> dict[str, Any]:
    """`a=1 b="two words"` -> {'a': '1', 'b': 'two words'}; PlaybookError on a bare word."""
    out: dict[str, Any] = {}
    for word in split_words(text):
        templated = _TEMPLATED_KEY.match(word)
        if templated is not None:
            out[word[: templated.end() - 1]] = unquote(word[templated.end() :])
            continue
        if not is_kv(word):
            raise PlaybookError(f"expected key=value, got {word!r}")
        key, _, value = word.partition("=")
        out[key] = unquote(value)
    return out


def parse_command(text: str) -> dict[str, Any]:
    """A free-form command with optional trailing `creates=`/`chdir=`... options."""
    spans = split_spans(text)
    options: dict[str, Any] = {}
    cut = len(text)
    while spans:
        a, b = spans[-1]
        word = text[a:b]
        if not (is_kv(word) and word.split("=", 1)[0] in COMMAND_OPTIONS):
            break
        key, _, value = word.partition("=")
        options[key] = unquote(value)
        cut = a
        spans.pop()
    return {"cmd": text[:cut].strip(), **options}


def parse_free_form(text: str, free_form: str | None, names: frozenset[str]) -> dict[str, Any]:
    """Arguments from a string: key=value pairs, or the module's free-form argument."""
    if free_form == "cmd":
        return parse_command(text)
    words = split_words(text)
    if words and all(is_kv(w) and w.split("=", 1)[0] in names for w in words):
        return parse_kv(text)
    if free_form is not None:
        return {free_form: text.strip()}
    return parse_kv(text)
