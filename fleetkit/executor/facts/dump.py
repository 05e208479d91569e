"""The fact script's output, read back as the host's files, links and command outputs.

`Dump` answers the questions Ansible's collectors ask of the host (`get_file_content`,
`os.path.isfile`, `os.readlink`, `os.listdir`, a command's rc and output) from the
records script.py prints, so each collector reads like its Ansible counterpart.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Output:
    """One command's output and exit status (rc None: the script did not run it)."""

    lines: tuple[str, ...] = ()
    rc: int | None = None

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def text(self) -> str:
        return "".join(f"{line}\n" for line in self.lines)


NOT_RUN = Output()


@dataclass(frozen=True)
class Dump:
    """Everything one run of the fact script reported about one host."""

    values: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    singles: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    kinds: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    files: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: EMPTY)
    entries: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: EMPTY)
    outputs: Mapping[str, Output] = field(default_factory=lambda: EMPTY)
    links: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    python: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    # files --------------------------------------------------------------------------

    def content(self, path: str, default: Any = None) -> Any:
        """Ansible's get_file_content: the stripped text, default when unreadable or empty."""
        if path in self.files:
            text = "\n".join(self.files[path]).strip()
        elif path in self.singles:
            text = self.singles[path].strip()
        else:
            return default
        return text or default

    def raw(self, path: str) -> str | None:
        """A text file's content as lines joined (None: not readable)."""
        if path in self.files:
            return "".join(f"{line}\n" for line in self.files[path])
        if path in self.singles:
            return self.singles[path]
        return None

    def file_lines(self, path: str) -> list[str]:
        """Ansible's get_file_lines: the stripped content's lines ([] when unreadable)."""
        text = self.content(path)
        return text.splitlines() if text else []

    def kind(self, path: str) -> str:
        return self.kinds.get(path.rstrip("/") or "/", "")

    def exists(self, path: str) -> bool:
        return bool(set(self.kind(path)) & set("dfe")) or path in self.singles

    def isfile(self, path: str) -> bool:
        return "f" in self.kind(path) or path in self.singles or path in self.files

    def isdir(self, path: str) -> bool:
        return "d" in self.kind(path)

    def islink(self, path: str) -> bool:
        return "l" in self.kind(path) or path in self.links

    def readable(self, path: str) -> bool:
        return "r" in self.kind(path) or path in self.singles or path in self.files

    def readlink(self, path: str) -> str | None:
        return self.links.get(path)

    def listdir(self, path: str) -> tuple[str, ...] | None:
        return self.entries.get(path)

    def realpath(self, path: str) -> str:
        """posixpath.realpath through the links the dump knows (a few hops)."""
        known = self.values.get(f"realpath:{path}")
        if known:
            return known
        current = path
        for _ in range(8):
            target = self.links.get(current)
            if target is None:
                break
            current = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
        return posixpath.normpath(current)

    # commands -----------------------------------------------------------------------

    def output(self, name: str) -> Output:
        return self.outputs.get(name, NOT_RUN)

    def binary(self, name: str) -> str | None:
        """Where `command -v` found a tool (the module's get_bin_path), or None."""
        return self.values.get(f"bin:{name}")

    def value(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)


def parse_dump(stdout: str) -> Dump:
    """The Dump of the fact script's stdout (unknown lines are ignored)."""
    values: dict[str, str] = {}
    singles: dict[str, str] = {}
    kinds: dict[str, str] = {}
    files: dict[str, list[str]] = {}
    entries: dict[str, list[str]] = {}
    outputs: dict[str, Output] = {}
    links: dict[str, str] = {}
    block: str | None = None
    body: list[str] = []
    for line in stdout.split("\n"):
        if block is not None:
            tag, _, rest = line.partition("\t")
            name, _, rc = rest.partition("\t")
            if tag == "Z" and name == block:
                if body and body[-1] == "":
                    body.pop()
                _finish(block, body, _int(rc), outputs, links)
                block, body = None, []
            else:
                body.append(line)
            continue
        tag, _, rest = line.partition("\t")
        key, _, value = rest.partition("\t")
        if tag == "V":
            values[key] = value
        elif tag == "S":
            singles[key] = value
            kinds.setdefault(key, "fr")
        elif tag == "X":
            kinds[key.rstrip("/") or "/"] = value
        elif tag == "L":
            files.setdefault(key, []).append(value)
        elif tag == "D":
            entries.setdefault(key, []).append(value)
        elif tag == "B":
            block, body = rest, []
    python: Mapping[str, Any] = EMPTY
    probe = outputs.get("py")
    if probe is not None and probe.ok and probe.lines:
        try:
            loaded = json.loads(probe.lines[-1])
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            python = loaded
    return Dump(
        values=values,
        singles=singles,
        kinds=kinds,
        files={k: tuple(v) for k, v in files.items()},
        entries={k: tuple(v) for k, v in entries.items()},
        outputs=outputs,
        links=links,
        python=python,
    )


def _finish(
    name: str, body: list[str], rc: int | None, outputs: dict[str, Output], links: dict[str, str]
) -> None:
    if name == "ls":
        for line in body:
            left, arrow, target = line.partition(" -> ")
            if arrow and left.split():
                links[left.split()[-1]] = target
        return
    outputs[name] = Output(tuple(body), rc)


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
