"""The ansible.cfg differential: generated config files and ANSIBLE_* environments, read
by ansible-core 2.19 (`ansible-config dump -t all --format json`) and by fleetkit
(fleetkit/config/ansible_cfg.py), compared setting by setting: the file chosen, each
value and its origin (default, env: NAME or the file), the world-writable warning, and
that a malformed file or value is an error in both (at the same line when Ansible says one).

host_key_checking is compared with the ssh connection plugin's (the value a run uses:
it also reads [ssh_connection] and ANSIBLE_SSH_HOST_KEY_CHECKING), pipelining with the
ssh plugin's origin; every other setting with base.yml's. Each case is its own folder
with its own HOME; cases run two at a time (one ansible-config process each).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import textwrap
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.compat.inventory_diff import BIN

from fleetkit.config.ansible_cfg import DEFINITIONS, AnsibleConfig, boolean, load_config
from fleetkit.errors import ConfigError

pytestmark = pytest.mark.compat

SYSTEM = Path("/etc/ansible/ansible.cfg")
PLUGIN_SETTINGS = ("host_key_checking", "pipelining")


@dataclass(frozen=True)
class Case:
    name: str
    files: Mapping[str, str] = field(default_factory=dict)
    """Path (under the case folder: project/ is the working directory, home/ is HOME)
    -> text."""
    env: Mapping[str, str] = field(default_factory=dict)
    public_cwd: bool = False
    error: bool = False


# generated cases -----------------------------------------------------------------------

FILES: dict[str, str] = {
    "none": "",
    "typical": """
        [defaults]
        inventory = inventory/hosts.yml
        roles_path = roles:~/shared/roles
        collections_path = collections
        forks = 20
        remote_user = deploy
        private_key_file = ~/.ssh/deploy
        host_key_checking = False
        retry_files_enabled = False
        stdout_callback = yaml
        interpreter_python = auto_silent
        nocows = 1
        [privilege_escalation]
        become = True
        become_method = sudo
        become_user = app
        [ssh_connection]
        pipelining = True
        ssh_args = -o ControlMaster=auto -o ControlPersist=60s
        """,
    "odd_types": """
        [defaults]
        forks = 7.0
        timeout = 1e1
        remote_user = 'quoted'
        host_key_checking = "no"
        gathering = smart
        allow_broken_conditionals = on
        inventory = a.yml, b/ ,/abs/c
        collections_path = c1::c2
        private_key_file = "keys/id"
        [privilege_escalation]
        become = maybe
        """,
    "sections": """
        [DEFAULT]
        forks = 3
        become = yes
        [defaults]
        home = .ah
        remote_user = ops ; the operator
        roles_path = r1:
          r2
        host_key_checking = True
        pipelining = true
        [connection]
        pipelining = false
        [ssh_connection]
        host_key_checking = False
        [privilege_escalation]
        """,
    "case_and_comments": """
        # a comment
        ; another
        [defaults]
        Forks = 4
        GATHERING = explicit
        interpreter_python = /usr/bin/python3
        [Defaults]
        timeout = 99
        """,
    "expansions": """
        [defaults]
        roles_path = {{CWD}}/r:$CASE_ROOT/shared:${NOT_SET}/x:~/r
        inventory = ~/inv, $CASE_ROOT/inv2
        private_key_file = ../keys/../keys/id
        """,
}

ENVS: dict[str, dict[str, str]] = {
    "no_env": {},
    "env_over_file": {
        "ANSIBLE_FORKS": "9",
        "ANSIBLE_BECOME": "no",
        "ANSIBLE_ROLES_PATH": "envroles:/x",
        "ANSIBLE_INVENTORY": "envinv",
    },
    "several_and_empty": {
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_SSH_HOST_KEY_CHECKING": "yes",
        "ANSIBLE_FORKS": "",
        "ANSIBLE_TIMEOUT": "",
        "ANSIBLE_REMOTE_USER": '"q"',
        "ANSIBLE_BECOME_USER": "",
    },
    "the_rest": {
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_PIPELINING": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "1",
        "ANSIBLE_COLLECTIONS_PATH": "~/c:col",
        "ANSIBLE_HOME": "ah",
        "ANSIBLE_ALLOW_BROKEN_CONDITIONALS": "true",
        "ANSIBLE_PRIVATE_KEY_FILE": "k",
        "ANSIBLE_STDOUT_CALLBACK": "json",
    },
}


def _generated() -> list[Case]:
    out = []
    for (fname, text), (ename, env) in itertools.product(FILES.items(), ENVS.items()):
        files = {"project/ansible.cfg": text} if text else {}
        out.append(Case(f"{fname}+{ename}", files, env))
    return out


LOCATIONS = [
    Case(
        "ansible_config_folder",
        {"project/conf/ansible.cfg": "[defaults]\ninventory = hosts\nroles_path = r\n"},
        {"ANSIBLE_CONFIG": "conf"},
    ),
    Case(
        "ansible_config_ini_file",
        {
            "project/ansible.cfg": "[defaults]\nforks = 1\n",
            "elsewhere/x.ini": "[defaults]\nforks = 2\n",
        },
        {"ANSIBLE_CONFIG": "../elsewhere/x.ini"},
    ),
    Case(
        "ansible_config_missing",
        {"home/.ansible.cfg": "[defaults]\nforks = 3\n"},
        {"ANSIBLE_CONFIG": "missing.cfg"},
    ),
    Case("home_only", {"home/.ansible.cfg": "[defaults]\nforks = 4\nroles_path = rr\n"}),
    Case(
        "world_writable_then_home",
        {"project/ansible.cfg": "[defaults]\nforks = 9\n", "home/.ansible.cfg": "[defaults]\n"},
        public_cwd=True,
    ),
    Case(
        "world_writable_alone",
        {"project/ansible.cfg": "[defaults]\nforks = 9\n"},
        public_cwd=True,
    ),
    Case(
        "world_writable_named",
        {"project/ansible.cfg": "[defaults]\nforks = 9\n"},
        {"ANSIBLE_CONFIG": "ansible.cfg"},
        public_cwd=True,
    ),
    Case(
        "world_writable_named_elsewhere",
        {"project/ansible.cfg": "[defaults]\n", "home/.ansible.cfg": "[defaults]\nforks = 2\n"},
        {"ANSIBLE_CONFIG": "nope.cfg"},
        public_cwd=True,
    ),
]

ERRORS = [
    Case("bad_integer", {"project/ansible.cfg": "[defaults]\nforks = abc\n"}, error=True),
    Case("bad_fraction", {"project/ansible.cfg": "[defaults]\ntimeout = 2.5\n"}, error=True),
    Case("bad_choice", {"project/ansible.cfg": "[defaults]\ngathering = sometimes\n"}, error=True),
    Case(
        "duplicate_key",
        {"project/ansible.cfg": "[defaults]\nforks = 1\nforks = 2\n"},
        error=True,
    ),
    Case(
        "duplicate_section",
        {"project/ansible.cfg": "[defaults]\n[x]\n[defaults]\n"},
        error=True,
    ),
    Case("no_section", {"project/ansible.cfg": "\nforks = 1\n[defaults]\n"}, error=True),
    Case("junk_line", {"project/ansible.cfg": "[defaults]\nforks = 1\njunk\n"}, error=True),
    Case(
        "bad_extension",
        {"project/settings.conf": "[defaults]\n"},
        {"ANSIBLE_CONFIG": "settings.conf"},
        error=True,
    ),
    Case("bad_env_integer", env={"ANSIBLE_TIMEOUT": "soon"}, error=True),
]

CASES = [*_generated(), *LOCATIONS, *ERRORS]


# running both --------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    case: str
    problems: tuple[str, ...]


def _prepare(case: Case, root: Path) -> tuple[Path, dict[str, str]]:
    cwd, home = root / "project", root / "home"
    for folder in (cwd, home):
        folder.mkdir(parents=True, exist_ok=True)
    for rel, text in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    cwd.chmod(0o777 if case.public_cwd else 0o755)
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "CASE_ROOT": str(root),
        "PYTHONWARNINGS": "ignore",
        "ANSIBLE_LOCAL_TEMP": str(root / "ansible-tmp"),
    }
    return cwd, env | dict(case.env)


def _ansible(cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ansible-config"), "dump", "-t", "all", "--format", "json"],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _dumped(stdout: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(base settings by name, the ssh connection plugin's options by name)."""
    base: dict[str, dict[str, Any]] = {}
    ssh: dict[str, dict[str, Any]] = {}
    for entry in json.loads(stdout):
        if "name" in entry:
            base[entry["name"]] = entry
        for plugin in entry.get("CONNECTION_PLUGINS", ()):
            for option in plugin.get("ssh", ()):
                ssh[option["name"]] = option
    return base, ssh


def _ansible_line(stderr: str) -> int | None:
    found = re.search(r"\[line +(\d+)\]|line: (\d+)", stderr)
    return int(found.group(1) or found.group(2)) if found else None


def run_case(case: Case, root: Path) -> Answer:
    cwd, env = _prepare(case, root)
    proc = _ansible(cwd, env)
    try:
        ours: AnsibleConfig | ConfigError = load_config(env, cwd, SYSTEM)
    except ConfigError as err:
        ours = err
    problems: list[str] = []
    if case.error or proc.returncode != 0 or isinstance(ours, ConfigError):
        if proc.returncode == 0 or not isinstance(ours, ConfigError):
            problems.append(f"error: ansible rc={proc.returncode} fleetkit {ours!s:.200}")
        elif (line := _ansible_line(proc.stderr)) is not None and (
            ours.position is None or ours.position.line != line
        ):
            got = ours.position.line if ours.position else None
            problems.append(f"error line: ansible {line} fleetkit {got}")
        return Answer(case.name, tuple(problems))
    base, ssh = _dumped(proc.stdout)
    chosen = base["CONFIG_FILE"]["value"]
    if chosen != (str(ours.path) if ours.path else None):
        problems.append(f"CONFIG_FILE: ansible {chosen!r} fleetkit {ours.path}")
    warned = "world writable directory" in proc.stderr
    if warned != any("world writable directory" in w for w in ours.warnings):
        problems.append(f"world-writable warning: ansible {warned}, fleetkit {ours.warnings}")
    for name, definition in DEFINITIONS.items():
        mine = ours[name]
        if name == "host_key_checking":
            theirs = ssh["host_key_checking"]
        elif name == "pipelining":  # ssh's value is untyped; fleetkit reads it as a boolean
            theirs = dict(ssh["pipelining"])
            if theirs["value"] is not None:
                theirs["value"] = boolean(theirs["value"])
            else:
                theirs["value"] = definition.default
        else:
            theirs = base[definition.ansible]
        if (theirs["value"], theirs["origin"]) != (mine.value, mine.origin):
            problems.append(
                f"{name}: ansible {theirs['value']!r} ({theirs['origin']})"
                f" fleetkit {mine.value!r} ({mine.origin})"
            )
    return Answer(case.name, tuple(problems))


def test_every_config_reads_the_same_under_ansible_core_and_fleetkit(
    tmp_path: Path,
) -> None:
    if not (BIN / "ansible-config").exists():
        pytest.fail("ansible-core is not installed (pip install -e '.[test,ansible]')")
    if SYSTEM.exists():
        pytest.skip(f"{SYSTEM} exists on this machine: every case would read it")
    assert len(CASES) >= 35
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        answers = list(pool.map(lambda c: run_case(c, tmp_path / c.name), CASES))
    different = [a for a in answers if a.problems]
    print(f"\nansible.cfg differential: {len(answers)} cases, {len(different)} different")
    report = "\n".join(f"{a.case}:\n  " + "\n  ".join(a.problems) for a in different)
    assert not different, f"{len(different)} cases differ from ansible-core:\n{report}"


def test_the_definitions_are_ansible_cores_own() -> None:
    """Each definition's sections, keys, variables, type and default are base.yml's (or,
    for host_key_checking and pipelining, the ssh connection plugin's)."""
    yaml = pytest.importorskip("yaml")
    config_dir = Path(pytest.importorskip("ansible.config").__file__).parent
    base = yaml.safe_load((config_dir / "base.yml").read_text())
    for name, definition in DEFINITIONS.items():
        entry = base[definition.ansible]
        ini = tuple((i.get("section", "defaults"), i["key"]) for i in entry.get("ini", ()))
        env = tuple(e["name"] for e in entry.get("env", ()))
        if name in PLUGIN_SETTINGS:  # a superset of base.yml's, in Ansible's order
            assert set(ini) <= set(definition.ini) and set(env) <= set(definition.env), name
        else:
            assert (definition.ini, definition.env) == (ini, env), name
        assert definition.type == entry.get("type"), name
        assert tuple(entry.get("choices") or ()) == definition.choices, name
