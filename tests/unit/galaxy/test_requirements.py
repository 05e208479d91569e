"""Requirements files read as ansible-galaxy reads them, checked against what is on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.playbook.helpers import write

from fleetkit.cli import main
from fleetkit.errors import RequirementsError
from fleetkit.galaxy.check import check_file
from fleetkit.galaxy.requirements import (
    Status,
    meets_requirements,
    read_requirements,
    role_name_of,
)

pytestmark = pytest.mark.unit


def test_role_entries_in_every_form_ansible_galaxy_accepts(tmp_path: Path) -> None:
    write(tmp_path / "more.yml", "- acme.more\n")
    req = write(
        tmp_path / "requirements.yml",
        """
        roles:
          - geerlingguy.docker
          - geerlingguy.ntp,2.0.0
          - https://example.com/repos/ansible-role-x.git,v1,xrole
          - src: git+https://example.com/org/ansible-role-y.git
            version: main
          - {src: acme.web, name: web}
          - {role: acme.old, version: 1.0}
          - include: more.yml
        collections:
          - acme.tools
          - {name: acme.tools, version: ">=1.0.0,<2.0.0"}
          - {name: https://example.com/a.tar.gz}
          - {name: ./local/coll, type: dir}
        """,
    )
    got = [(r.kind, r.name, r.version, r.source_type) for r in read_requirements(req, tmp_path)]
    assert got == [
        ("role", "geerlingguy.docker", "", "galaxy"),
        ("role", "geerlingguy.ntp", "2.0.0", "galaxy"),
        ("role", "xrole", "v1", "galaxy"),
        ("role", "ansible-role-y", "main", "galaxy"),
        ("role", "web", "", "galaxy"),
        ("role", "acme.old", "1.0", "galaxy"),
        ("role", "acme.more", "", "galaxy"),
        ("collection", "acme.tools", "*", "galaxy"),
        ("collection", "acme.tools", ">=1.0.0,<2.0.0", "galaxy"),
        ("collection", "https://example.com/a.tar.gz", "*", "url"),
        ("collection", "./local/coll", "*", "dir"),
    ]


def test_the_old_format_is_a_list_of_roles(tmp_path: Path) -> None:
    req = write(tmp_path / "r.yml", "- src: acme.web\n  version: 1.0.0\n")
    assert [(r.name, r.version) for r in read_requirements(req, tmp_path)] == [
        ("acme.web", "1.0.0")
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "no requirements found", 1),
        ("roles: []\nplaybooks: []\n", "only 'roles' and 'collections'", 2),
        ("collections:\n  - {version: 1.0.0}\n", "needs the key 'name'", 2),
        ("collections:\n  - {name: toolsonly}\n", "neither namespace.name", 2),
        ("roles:\n  - a,b,c,d\n", "invalid role line", 2),
        ("roles:\n  - include: nope.yml\n", "not found", 2),
    ],
)
def test_a_file_ansible_galaxy_refuses_is_an_error_at_its_line(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    req = tmp_path / "r.yml"
    req.write_text(text)
    with pytest.raises(RequirementsError, match=message) as info:
        read_requirements(req, tmp_path)
    assert info.value.exit_code == 2
    assert info.value.position is not None and info.value.position.line == line


def test_role_names_from_urls() -> None:
    assert role_name_of("http://git.example.com/repos/repo.git") == "repo"
    assert role_name_of("https://x/y/role.tar.gz") == "role"
    assert role_name_of("acme.web") == "acme.web"


@pytest.mark.parametrize(
    ("version", "spec", "ok"),
    [
        ("1.2.0", "*", True),
        ("1.2.0", "1.2.0", True),
        ("1.2.0", "1.2", True),
        ("1.2.0", "==1.2.0", True),
        ("1.2.0", "!=1.2.0", False),
        ("1.2.0", ">=1.0.0,<2.0.0", True),
        ("2.0.0", ">=1.0.0,<2.0.0", False),
        ("1.3.0-beta.1", ">=1.3.0", False),
        ("1.3.0-beta.2", ">1.3.0-beta.1", True),
        ("1.3.0-beta.1", "<1.3.0", True),
        ("1.3.0-alpha", "<1.3.0-1", False),  # numeric identifiers sort first
        ("10.0.0", ">9.9.9", True),
    ],
)
def test_version_ranges_as_semantic_versions(version: str, spec: str, ok: bool) -> None:
    assert meets_requirements(version, spec) is ok


def _repo(tmp_path: Path) -> Path:
    write(tmp_path / "roles" / "acme.web" / "meta" / ".galaxy_install_info", "version: 2.1.0\n")
    (tmp_path / "vendor" / "plain" / "tasks").mkdir(parents=True)
    coll = tmp_path / "colls" / "ansible_collections" / "acme" / "tools"
    write(coll / "galaxy.yml", "namespace: acme\nname: tools\nversion: 1.2.0\n")
    return write(
        tmp_path / "requirements.yml",
        """
        roles:
          - {name: acme.web, version: 2.1.0}
          - {name: acme.web, version: 3.0.0}
          - name: plain
          - {name: plain, version: 1.0.0}
          - geerlingguy.docker
        collections:
          - {name: acme.tools, version: ">=1.0.0"}
          - {name: acme.tools, version: "2.0.0"}
          - nope.missing
          - {name: git+https://example.com/x.git}
        """,
    )


def test_each_requirement_against_the_roles_path_and_the_collections(tmp_path: Path) -> None:
    req = _repo(tmp_path)
    found = check_file(
        req,
        cwd=tmp_path,
        roles_path=[tmp_path / "vendor"],
        collections_path=[tmp_path / "colls"],
        environ={},
    )
    assert [(f.requirement.name, f.status, f.installed) for f in found] == [
        ("acme.web", Status.OK, "2.1.0"),
        ("acme.web", Status.VERSION, "2.1.0"),
        ("plain", Status.OK, None),
        ("plain", Status.UNKNOWN, None),
        ("geerlingguy.docker", Status.MISSING, None),
        ("acme.tools", Status.OK, "1.2.0"),
        ("acme.tools", Status.VERSION, "1.2.0"),
        ("nope.missing", Status.MISSING, None),
        ("git+https://example.com/x.git", Status.UNCHECKED, None),
    ]
    assert "vendor" in found[4].detail


def test_the_command_exits_1_naming_what_is_not_installed_and_0_when_all_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    _repo(tmp_path)
    args = [
        "galaxy",
        "check",
        "requirements.yml",
        "--roles-path",
        "vendor",
        "--collections-path",
        "colls",
    ]
    assert main([*args, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["not_installed"] == ["acme.web", "geerlingguy.docker", "acme.tools", "nope.missing"]
    assert out["roles"][0]["status"] == "ok" and out["roles"][0]["at"].endswith(":2")
    write(tmp_path / "ok.yml", "roles: [acme.web]\ncollections: [acme.tools]\n")
    assert main(["galaxy", "check", "ok.yml", "--collections-path", "colls"]) == 0
    assert "all 2 installed" in capsys.readouterr().out
    write(tmp_path / "bad.yml", "roles: {a: 1}\n")
    assert main(["galaxy", "check", "bad.yml"]) == 2
    assert "bad.yml:1" in capsys.readouterr().err
