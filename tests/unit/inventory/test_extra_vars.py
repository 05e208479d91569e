"""-e values: k=v pairs (integers typed), JSON/YAML documents, @FILE; later ones win."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetkit.errors import UsageError
from fleetkit.inventory.extra_vars import parse_extra_vars

from .conftest import WriteFile

pytestmark = pytest.mark.unit


def test_pairs_stay_strings_except_plain_integers(tmp_path: Path) -> None:
    values = ["replicas=10 delta=-3 image=web:v2 ratio=1.5 id=007 flag=true empty="]
    assert parse_extra_vars(values, tmp_path) == {
        "replicas": 10,
        "delta": -3,
        "image": "web:v2",
        "ratio": "1.5",
        "id": "007",
        "flag": "true",
        "empty": "",
    }


def test_quoted_values_keep_their_spaces(tmp_path: Path) -> None:
    assert parse_extra_vars(["motd='hello world' x=\"a=b\""], tmp_path) == {
        "motd": "hello world",
        "x": "a=b",
    }


def test_json_and_yaml_flow_documents_keep_their_types(tmp_path: Path) -> None:
    assert parse_extra_vars(['{"replicas": 3, "ports": [80, 443]}'], tmp_path) == {
        "replicas": 3,
        "ports": [80, 443],
    }
    assert parse_extra_vars(["{debug: true}"], tmp_path) == {"debug": True}


def test_at_file_loads_yaml_or_json_relative_to_cwd(tmp_path: Path, write: WriteFile) -> None:
    write("vars/extra.yml", "image: web:v3\nreplicas: 4\n")
    write("vars/extra.json", '{"replicas": 5}')
    assert parse_extra_vars(["@vars/extra.yml"], tmp_path) == {"image": "web:v3", "replicas": 4}
    assert parse_extra_vars(["@vars/extra.json"], tmp_path) == {"replicas": 5}


def test_later_values_override_earlier_ones(tmp_path: Path, write: WriteFile) -> None:
    write("extra.yml", "replicas: 4\nimage: from-file\n")
    merged = parse_extra_vars(["replicas=2 image=cli", "@extra.yml", "replicas=9", ""], tmp_path)
    assert merged == {"replicas": 9, "image": "from-file"}


def test_bad_yaml_in_extra_vars_file_names_file_and_line(tmp_path: Path, write: WriteFile) -> None:
    write("extra.yml", "a: 1\nb: [\n")
    with pytest.raises(UsageError, match="invalid YAML") as err:
        parse_extra_vars(["@extra.yml"], tmp_path)
    assert err.value.position is not None and err.value.position.line == 3
    assert str(err.value.position.path).endswith("extra.yml")


def test_extra_vars_file_must_be_a_mapping(tmp_path: Path, write: WriteFile) -> None:
    write("extra.yml", "- a\n- b\n")
    with pytest.raises(UsageError, match="mapping") as err:
        parse_extra_vars(["@extra.yml"], tmp_path)
    assert str(err.value.position).endswith("extra.yml:1")


def test_missing_extra_vars_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        parse_extra_vars(["@nope.yml"], tmp_path)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("replicas:10", "expected name=value"),
        ("1x=2", "expected name=value"),
        ("=2", "expected name=value"),
        ("motd='unclosed", "quotation"),
        ("[1, 2]", "mapping"),
        ('{"a": ', "invalid YAML"),
    ],
)
def test_malformed_values_are_usage_errors(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as err:
        parse_extra_vars([value], tmp_path)
    assert err.value.exit_code == 2
