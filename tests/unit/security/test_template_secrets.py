"""Finding 2d: a template cannot read a Secret, and never turns one into its mask.

`reveal()` is unsafe for Jinja's sandbox; a Secret interpolated into text or given
to a filter is a TemplateError naming the variable (before: the literal
'********', which swarm_join would have sent as the join token). A value that is
one expression (`token: "{{ join.token }}"`) still hands the Secret object through,
as the repository's bootstrap playbooks pass join tokens.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from fleetkit.errors import TemplateError
from fleetkit.modules.swarm_join import as_secret
from fleetkit.orchestrators.base import Secret
from fleetkit.playbook.render import Renderer

pytestmark = pytest.mark.unit

TOKEN = "SWMTKN-1-planted-template-token"


@pytest.fixture
def variables() -> dict[str, Any]:
    return {
        "join": {"tokens": MappingProxyType({"worker": Secret(TOKEN)})},
        "k3s_join": {"token": Secret(TOKEN)},
        "plain": "text",
    }


@pytest.mark.parametrize(
    "source",
    ["{{ join.tokens.worker.reveal() }}", "x{{ k3s_join.token.reveal() }}"],
)
def test_reveal_is_not_callable_from_a_template(source: str, variables: dict[str, Any]) -> None:
    with pytest.raises(TemplateError, match="not safely callable") as err:
        Renderer().render(source, variables)
    assert TOKEN not in err.value.message


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("--token {{ join.tokens.worker }}", "join.tokens.worker"),
        ("{{ k3s_join.token | string }}", "k3s_join.token"),
        ("{{ k3s_join.token | trim }}", "k3s_join.token"),
        ("{{ k3s_join.token ~ '' }}", "k3s_join.token"),
        ("{{ [k3s_join.token] | join(',') }}", "k3s_join.token"),
        ("{{ k3s_join['token'] | b64encode }}", "k3s_join.token"),
    ],
)
def test_a_secret_as_text_is_an_error_naming_the_variable(
    source: str, named: str, variables: dict[str, Any]
) -> None:
    with pytest.raises(TemplateError) as err:
        Renderer().render(source, variables)
    assert repr(named) in err.value.message
    assert TOKEN not in err.value.message and "********" not in err.value.message


def test_a_template_file_with_a_secret_is_an_error_naming_it(
    tmp_path: Any, variables: dict[str, Any]
) -> None:
    (tmp_path / "unit.j2").write_text("K3S_TOKEN={{ k3s_join.token }}\n")
    with pytest.raises(TemplateError, match=r"'k3s_join\.token'"):
        Renderer([tmp_path]).render_file("unit.j2", variables)


def test_a_single_expression_hands_the_secret_through(variables: dict[str, Any]) -> None:
    renderer = Renderer()
    value = renderer.render("{{ join.tokens.worker }}", variables)
    assert isinstance(value, Secret) and value.reveal() == TOKEN
    given = renderer.render({"join_token": "{{ k3s_join.token | default('') }}"}, variables)
    token = as_secret(given["join_token"])
    assert token is not None and token.reveal() == TOKEN  # what swarm_join sends
    assert renderer.evaluate("k3s_join.token is defined", variables) is True
    assert renderer.render("{{ plain | upper }}", variables) == "TEXT"


def test_outside_a_template_a_secret_still_shows_its_mask() -> None:
    secret = Secret(TOKEN)
    assert str(secret) == "********" and f"{secret}" == "********"
    assert TOKEN not in repr(secret)
