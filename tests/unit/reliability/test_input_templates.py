"""Templates cannot hang a run: huge `*`/`**`/`+` results, `range` products past the
render time budget and catastrophic regexes are TemplateErrors; from_yaml has the YAML
alias budget; the pre-run check scans a block shared by aliases once; a non-UTF-8
template and an empty playbook are exit-2 errors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support import fleetkit
from tests.unit.reliability.bound import within
from tests.unit.reliability.test_input_yaml import alias_bomb

from fleetkit.errors import PlaybookError, TemplateError
from fleetkit.playbook.load import load_playbook
from fleetkit.playbook.render import Renderer

pytestmark = pytest.mark.unit

CHILD = """
import sys
from fleetkit.errors import TemplateError
from fleetkit.playbook.render import Renderer
r = Renderer()
r.env.render_seconds = 1
try:
    print("value", r.render(sys.argv[1], dict(r.globals)))
except TemplateError as err:
    print("TemplateError", err)
"""


def render_in_child(template: str) -> str:
    """Render in a subprocess: a regression stuck in one C call (pow, a regex) is killed
    by the timeout instead of hanging the test session."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, template],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("template", "needle"),
    [
        ("{{ 7 ** (7 ** 10) }}", "too large"),
        ("{{ [1] * 200000000 }}", "10,000,000-item limit"),
        ("{{ 'x' * 10 ** 9 }}", "10,000,000-item limit"),
        ("{{ (10 ** 3000) * (10 ** 3000) }}", "too large"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "render budget",
        ),
        ("{{ 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' is match('(a+)+$') }}", "nests unbounded"),
        (
            "{{ 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' | regex_search('(a|aa*)*$') }}",
            "nests unbounded",
        ),
    ],
)
def test_template_denial_of_service_is_a_clear_template_error(template: str, needle: str) -> None:
    start = time.monotonic()
    out = render_in_child(template)
    assert out.startswith("TemplateError") and needle in out, out
    assert time.monotonic() - start < 20


def test_ordinary_arithmetic_ranges_and_regexes_still_work() -> None:
    r = Renderer()
    env = dict(r.globals)
    assert r.render("{{ 2 ** 64 }}", env) == 2**64
    assert r.render("{{ '-' * 80 }}", env) == "-" * 80
    assert r.render("{{ [0] * 3 + [1] }}", env) == [0, 0, 0, 1]
    assert r.render("{{ range(3) | list }}", env) == [0, 1, 2]
    assert r.render("{{ range(10) | length }}", env) == 10
    assert r.render("{{ 'web12' | regex_replace('[0-9]+', 'N') }}", env) == "webN"
    assert r.render("{{ 'a-b' is search('^(a|b)-[a-z]+$') }}", env) is True
    text = "{% for i in range(3) %}{% for j in range(2) %}{{ i }}{{ j }} {% endfor %}{% endfor %}"
    assert r.render(text, env) == "00 01 10 11 20 21 "


def test_the_render_budget_is_per_top_level_render() -> None:
    r = Renderer()
    r.env.render_seconds = 0.5  # type: ignore[attr-defined]
    env = dict(r.globals)
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with within(10), pytest.raises(TemplateError, match="render budget"):
        r.render(slow, env)
    assert r.render("{{ 1 + 1 }}", env) == 2  # the next render has its own budget


def test_from_yaml_has_the_alias_budget() -> None:
    r = Renderer()
    with within(10), pytest.raises(TemplateError, match="aliases expand"):
        r.render("{{ out | from_yaml }}", {**r.globals, "out": alias_bomb()})
    assert r.render("{{ 'a: [1, 2]' | from_yaml }}", dict(r.globals)) == {"a": [1, 2]}


def test_the_pre_run_scan_visits_an_alias_shared_block_once() -> None:
    r = Renderer()
    leaf = ["{{ x }}", "{{ y | default(1) }}"]
    shared: list[object] = leaf
    for _ in range(30):  # 2**30 paths through the same lists if walked naively
        shared = [shared, shared]
    with within(5):
        assert r.names({"v": shared}) == {"x"}
        assert r.names({"v": shared}, guarded=True) == {"x", "y"}


def test_a_non_utf8_template_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_bytes(b"ok\nname: caf\xe9 {{ x }}\n")
    r = Renderer([tmp_path])
    with pytest.raises(TemplateError, match="not UTF-8") as err:
        r.render_file("t.j2", {"x": 1})
    assert "t.j2:2" in str(err.value)
    with pytest.raises(TemplateError, match="not UTF-8"):
        r.template_file_names("t.j2")


@pytest.mark.parametrize("text", ["", "# nothing\n", "[]\n"])
def test_an_empty_playbook_is_an_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "site.yml").write_text(text)
    with pytest.raises(PlaybookError, match="empty playbook") as err:
        load_playbook(tmp_path / "site.yml")
    assert str(err.value.position).endswith("site.yml:1")


def test_run_of_an_alias_bomb_in_play_vars_exits_2_quickly(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    n1: {ansible_connection: local}\n")
    bomb = "".join(f"    {line}\n" for line in alias_bomb().splitlines())
    (tmp_path / "site.yml").write_text(
        "- hosts: all\n  vars:\n" + bomb + "  tasks:\n    - debug: {msg: hi}\n"
    )
    done = fleetkit("run", "site.yml", "-i", "hosts.yml", cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "site.yml:" in done.stderr and "aliases expand" in done.stderr
    assert "RECAP" not in done.stdout
