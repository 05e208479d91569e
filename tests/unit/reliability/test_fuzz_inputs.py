"""Property-based fuzzing of the input parsers: any input gives a result or a
FleetkitError, within a time bound, never another exception.

Budget: the "ci" profile (CI env var set) is derandomized with a fixed example count;
locally "dev" is random with the same count. FLEETKIT_FUZZ_EXAMPLES=N raises it for a
longer run (docs/reliability.md, "Fuzzing").
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetkit.errors import FleetkitError
from fleetkit.inventory.builder import InventoryBuilder
from fleetkit.inventory.extra_vars import parse_extra_vars
from fleetkit.inventory.ini import parse_ini
from fleetkit.inventory.load import load_inventory
from fleetkit.inventory.select import select_hosts
from fleetkit.inventory.yaml_inv import parse_yaml_inventory

pytestmark = pytest.mark.unit

EXAMPLES = int(os.environ.get("FLEETKIT_FUZZ_EXAMPLES", "150"))
_common = {
    "max_examples": EXAMPLES,
    "deadline": timedelta(seconds=2),
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "database": None,
}
settings.register_profile("ci", derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", **_common)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# text that looks like the formats: their punctuation and keywords, plus anything
_INI_BITS = st.sampled_from(
    [
        "[",
        "]",
        ":",
        "=",
        "vars",
        "children",
        "web",
        "w[1:3]",
        "[a:c]",
        "#",
        ";",
        '"',
        "'",
        "\n",
        " ",
        "1",
        "0x1f",
        "[1,2]",
        "{'a':1}",
        "ansible_port=",
        "port=",
        "9" * 30,
        "\\",
    ]
)
_YAML_BITS = st.sampled_from(
    [
        "all:",
        "hosts:",
        "vars:",
        "children:",
        "\n",
        "  ",
        "- ",
        "&a ",
        "*a",
        "<<: ",
        "{",
        "}",
        "[",
        "]",
        ",",
        ": ",
        "? ",
        "!!int ",
        "!!binary ",
        "!vault ",
        "'",
        '"',
        "2001-13-45",
        "1",
        "~",
        "null",
        "0x" + "f" * 20,
        "web[1:3]:",
        "|",
        ">",
        "#",
        "---",
        "...",
        "%YAML 1.1",
    ]
)


def _mix(bits: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(bits, st.text(max_size=8)), max_size=40).map("".join)


def _fine(call: Callable[[], object]) -> None:
    """Run call(): it may return or raise a FleetkitError, nothing else."""
    with contextlib.suppress(FleetkitError):
        call()


@given(_mix(_INI_BITS))
def test_fuzz_ini_inventory(text: str) -> None:
    builder = InventoryBuilder(Path("h.ini"))
    with contextlib.suppress(FleetkitError):
        parse_ini(text, Path("h.ini"), builder)
        builder.build()


@given(_mix(_YAML_BITS))
def test_fuzz_yaml_inventory(text: str) -> None:
    builder = InventoryBuilder(Path("h.yml"))
    with contextlib.suppress(FleetkitError):
        parse_yaml_inventory(text, Path("h.yml"), builder)
        builder.build()


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> object:
    path = tmp_path_factory.mktemp("inv") / "hosts.ini"
    path.write_text("[web]\nweb[1:5]\n[db]\ndb1\ndb2\n[prod:children]\nweb\ndb\n")
    return load_inventory(path)


@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "web",
                    "db",
                    "prod",
                    "all",
                    "*",
                    "~",
                    "&",
                    "!",
                    ":",
                    ",",
                    "[",
                    "]",
                    "0",
                    "-1",
                    "1:",
                    "web1",
                    "w?b*",
                    "~web\\d",
                    "(",
                    "@",
                ]
            ),
            st.text(max_size=6),
        ),
        max_size=12,
    ).map("".join),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_fuzz_patterns_and_limits(inventory: object, pattern: str, limit: str | None) -> None:
    if limit is not None and limit.startswith("@"):
        limit = limit[1:]  # @FILE reads files: covered by the file tests
    with contextlib.suppress(FleetkitError):
        select_hosts(inventory, pattern, limit, cwd=Path("/nonexistent"))  # type: ignore[arg-type]


@given(
    st.lists(
        st.one_of(
            _mix(
                st.sampled_from(
                    [
                        "a=1",
                        "b='x y'",
                        '"',
                        "=",
                        " ",
                        "{",
                        "}",
                        "[",
                        "]",
                        ":",
                        "-1",
                        "007",
                        "k=",
                        "=v",
                        "\\",
                        "&a",
                        "*a",
                    ]
                )
            ),
            st.text(max_size=20),
        ),
        max_size=4,
    )
)
def test_fuzz_extra_vars(values: list[str]) -> None:
    values = [v.lstrip().lstrip("@") for v in values]  # no file reads
    with contextlib.suppress(FleetkitError):
        parse_extra_vars(values, Path("/nonexistent"))


_PLAY_BITS = st.sampled_from(
    [
        "- hosts: all\n",
        "  tasks:\n",
        "    - ",
        "debug: {msg: hi}\n",
        "shell: echo\n",
        "name: t\n",
        "when: x\n",
        "loop: [1, 2]\n",
        "vars: {a: 1}\n",
        "{{ x }}",
        "{%",
        "%}",
        "block:\n",
        "import_playbook: other.yml\n",
        "roles: [r]\n",
        "  ",
        "\n",
        "&a ",
        "*a",
        "register: r\n",
        "notify: h\n",
        "handlers:\n",
        "tags: [a]\n",
        "serial: 0\n",
    ]
)


@settings(max_examples=max(EXAMPLES // 2, 10))
@given(_mix(_PLAY_BITS))
def test_fuzz_playbook_loader(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    from fleetkit.playbook.load import load_playbook

    path = tmp_path_factory.mktemp("pb") / "site.yml"
    path.write_text(text)
    with contextlib.suppress(FleetkitError):
        load_playbook(path)


_PROBE_BITS = st.sampled_from(
    [
        "@@fk@@ proc\n",
        "@@fk@@ df\n",
        "@@fk@@ docker\n",
        "@@fk@@ swarm\n",
        "@@fk@@ k8s\n",
        "@@fk@@ os\n",
        "@@fk@@ end\n",
        "/proc/loadavg:",
        "/proc/stat:",
        "/proc/meminfo:",
        "/proc/uptime:",
        "/proc/net/dev:",
        "cpu  1 2 3 4 5 6 7 8\n",
        "MemTotal: 1 kB\n",
        "0.1 0.2 0.3 1/2 3\n",
        "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        "{",
        "}",
        '{"ID": "x"}\n',
        "nan",
        "-1",
        "1e999",
        "9" * 30,
        " ",
        "\n",
        ":",
        "\t",
        "|",
    ]
)


@given(_mix(_PROBE_BITS))
def test_fuzz_probe_output_parser(text: str) -> None:
    from fleetkit.monitoring.probe import parse_probe

    _fine(lambda: parse_probe("h1", text, now=1000.0))
