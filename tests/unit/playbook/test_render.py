"""Rendering: sandboxed Jinja2, StrictUndefined, native single expressions, filters, lazy vars."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import Position, TemplateError
from fleetkit.inventory.model import Host, Inventory
from fleetkit.playbook.render import Renderer
from fleetkit.playbook.schema import Play, Task
from fleetkit.playbook.variables import Layered, PlayScope

pytestmark = pytest.mark.unit


@pytest.fixture
def r() -> Renderer:
    return Renderer()


def test_plain_strings_are_returned_as_they_are(r: Renderer) -> None:
    assert r.render("uptime", {}) == "uptime"


def test_a_lone_expression_keeps_its_type(r: Renderer) -> None:
    assert r.render("{{ ports }}", {"ports": [80, 443]}) == [80, 443]
    assert r.render("{{ n + 1 }}", {"n": 1}) == 2
    assert r.render("port {{ n }}", {"n": 1}) == "port 1"


def test_structures_are_rendered_recursively(r: Renderer) -> None:
    assert r.render({"a": ["{{ x }}", {"b": "{{ x }}!"}]}, {"x": "y"}) == {"a": ["y", {"b": "y!"}]}


def test_an_undefined_variable_is_an_error_naming_it(r: Renderer) -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        r.render("hello {{ nope }}", {})
    with pytest.raises(TemplateError, match="has no attribute 'port'"):
        r.render("{{ svc.port }}", {"svc": {}})


def test_default_and_is_defined_guard_undefined_names(r: Renderer) -> None:
    assert r.render("{{ nope | default('x') }}", {}) == "x"
    assert r.evaluate("nope is defined", {}) is False


def test_syntax_errors_are_template_errors(r: Renderer) -> None:
    with pytest.raises(TemplateError, match="syntax error"):
        r.render("{{ a + }}", {"a": 1})


def test_the_sandbox_refuses_unsafe_attributes(r: Renderer) -> None:
    with pytest.raises(TemplateError):
        r.render("{{ ''.__class__.__mro__ }}", {})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ x | to_json }}", '{"a": [1, 2]}'),
        ("{{ x | to_yaml }}", "a: [1, 2]\n"),
        ("{{ '{\"k\": 1}' | from_json }}", {"k": 1}),
        ("{{ 'k: 1' | from_yaml }}", {"k": 1}),
        ("{{ 'hi' | b64encode }}", "aGk="),
        ("{{ 'aGk=' | b64decode }}", "hi"),
        ("{{ 'a-b-c' | regex_replace('-', '_') }}", "a_b_c"),
        ("{{ 'v1.2.3' | regex_search('[0-9.]+') }}", "1.2.3"),
        ("{{ 'yes' | bool }}", True),
        ("{{ '42' | int }}", 42),
        ("{{ ['a', 'b'] | join(',') }}", "a,b"),
        ("{{ {'a': 1} | combine({'b': 2}) }}", {"a": 1, "b": 2}),
        ("{{ {'a': 1} | dict2items }}", [{"key": "a", "value": 1}]),
        ("{{ [[1], [2, [3]]] | flatten }}", [1, 2, 3]),
        ("{{ 'a b' | quote }}", "'a b'"),
        ("{{ '/etc/app.conf' | basename }}", "app.conf"),
        ("{{ true | ternary('on', 'off') }}", "on"),
    ],
)
def test_ansible_filters(r: Renderer, source: str, expected: object) -> None:
    assert r.render(source, {"x": {"a": [1, 2]}}) == expected


def test_result_tests(r: Renderer) -> None:
    assert r.evaluate("out is failed", {"out": {"failed": True}}) is True
    assert r.evaluate("out is changed", {"out": {"changed": False}}) is False
    assert r.evaluate("out is succeeded", {"out": {"failed": False}}) is True


def test_names_lists_unguarded_variables_only(r: Renderer) -> None:
    assert r.names("{{ a }} {{ b | default('c') }} {% if d is defined %}{{ d }}{% endif %}") == {
        "a"
    }
    assert r.names({"k": ["{{ x.y }}", "{% for i in items %}{{ i }}{% endfor %}"]}) == {
        "x",
        "items",
    }
    assert r.expression_names("a > 1 and b is not defined") == {"a"}


def test_template_files_are_found_beside_the_playbook_first(tmp_path: Path) -> None:
    own = tmp_path / "play" / "templates"
    repo = tmp_path / "templates"
    own.mkdir(parents=True)
    repo.mkdir()
    (own / "a.j2").write_text("own {{ x }}\n")
    (repo / "a.j2").write_text("repo\n")
    (repo / "b.j2").write_text("repo b\n")
    r = Renderer((own, repo))
    assert r.render_file("a.j2", {"x": 1}) == "own 1\n"
    assert r.render_file("b.j2", {}) == "repo b\n"
    with pytest.raises(TemplateError, match=r"template c\.j2 not found"):
        r.render_file("c.j2", {})


def test_layers_resolve_templated_values_lazily(r: Renderer) -> None:
    low = {"port": 80, "url": "http://{{ host }}:{{ port }}"}
    high = {"host": "web1", "port": 8080}
    view = Layered(r, [(high, True), (low, True)])
    assert view["url"] == "http://web1:8080"
    assert r.render("{{ url }}", view) == "http://web1:8080"


def test_a_self_referencing_variable_is_an_error(r: Renderer) -> None:
    view = Layered(r, [({"a": "{{ b }}", "b": "{{ a }}"}, True)])
    with pytest.raises(TemplateError, match="defined in terms of itself"):
        view["a"]


def test_host_results_are_never_rendered_again(r: Renderer) -> None:
    view = Layered(r, [({"out": {"stdout": "{{ not_a_template }}"}}, False)])
    assert r.render("{{ out.stdout }}", view) == "{{ not_a_template }}"


def _scope(r: Renderer, extra: dict[str, object]) -> PlayScope:
    inv = Inventory(
        source=Path("inv"),
        hosts={
            "web1": Host("web1", {"role": "inv", "port": 80}, ("web",)),
            "db1": Host("db1", {"role": "db"}, ("db",)),
        },
        groups={},
    )
    play = Play(
        name="p",
        hosts="all",
        pos=Position("site.yml", 1),
        path=Path("site.yml"),
        vars={"role": "play", "only_play": 1},
        vars_files={"role": "file"},
    )
    return PlayScope(
        renderer=r,
        inventory=inv,
        extra=extra,
        play=play,
        play_hosts=["web1", "db1"],
        runtime={"web1": {"reg": 1}},
        facts={"web1": {"os": {"id": "debian"}}},
    )


def test_precedence_extra_over_runtime_over_task_over_files_over_play_over_inventory(
    r: Renderer,
) -> None:
    scope = _scope(r, {})
    assert scope.host("web1")["role"] == "file"
    assert scope.host("web1")["port"] == 80
    task = Task(
        name="t", module="debug", args={}, pos=Position("x"), vars={"role": "task", "reg": 2}
    )
    assert scope.host("web1", task)["role"] == "task"
    assert scope.host("web1", task)["reg"] == 1
    assert _scope(r, {"role": "extra"}).host("web1", task)["role"] == "extra"


def test_magic_variables(r: Renderer) -> None:
    view = _scope(r, {}).host("web1")
    assert r.render("{{ inventory_hostname }} {{ group_names }} {{ facts.os.id }}", view) == (
        "web1 ['web'] debian"
    )
    # hostvars hold no play vars or vars_files (Ansible's): db1's role is its inventory's
    assert r.render("{{ hostvars['db1'].role }}", view) == "db"
    assert r.render("{{ groups['all'] }}", view) == ["web1", "db1"]
    assert r.render("{{ play_hosts | length }}", view) == 2
