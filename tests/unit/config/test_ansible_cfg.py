"""ansible.cfg as ansible-core 2.19 finds and types it (fleetkit/config/ansible_cfg.py).

Each test builds its own working directory, HOME and environment; nothing reads the
machine's own ~/.ansible.cfg or /etc/ansible (the system path is a test file).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from fleetkit.config.ansible_cfg import AnsibleConfig, find_config, load_config
from fleetkit.errors import ConfigError

pytestmark = pytest.mark.unit


class Box:
    """A working directory, a HOME and an environment for one test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cwd = root / "project"
        self.home = root / "home"
        self.system = root / "etc" / "ansible.cfg"
        for folder in (self.cwd, self.home, self.system.parent):
            folder.mkdir(parents=True)
            folder.chmod(0o755)
        self.env: dict[str, str] = {"HOME": str(self.home)}

    def write(self, path: Path | str, text: str) -> Path:
        target = self.cwd / path if isinstance(path, str) else path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"))
        return target

    def load(self) -> AnsibleConfig:
        return load_config(self.env, self.cwd, self.system)

    def found(self) -> tuple[Path | None, tuple[str, ...]]:
        return find_config(self.env, self.cwd, self.system)


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)


# the search order ------------------------------------------------------------------------


def test_ansible_config_names_the_file_before_the_working_directory(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\nforks = 2\n")
    chosen = box.write(box.root / "elsewhere" / "site.cfg", "[defaults]\nforks = 3\n")
    box.env["ANSIBLE_CONFIG"] = str(chosen)
    assert box.found() == (chosen, ())
    assert box.load().value("forks") == 3


def test_ansible_config_may_name_a_folder_holding_ansible_cfg(box: Box) -> None:
    chosen = box.write(box.root / "conf" / "ansible.cfg", "[defaults]\nforks = 4\n")
    box.env["ANSIBLE_CONFIG"] = str(chosen.parent)
    assert box.found()[0] == chosen


def test_a_missing_ansible_config_falls_through_to_the_working_directory(box: Box) -> None:
    here = box.write("ansible.cfg", "[defaults]\n")
    box.env["ANSIBLE_CONFIG"] = str(box.root / "nope.cfg")
    assert box.found()[0] == box.cwd / "ansible.cfg" == here


def test_a_relative_ansible_config_is_taken_from_the_working_directory(box: Box) -> None:
    chosen = box.write("conf/my.cfg", "[defaults]\n")
    box.env["ANSIBLE_CONFIG"] = "conf/my.cfg"
    assert box.found()[0] == chosen


def test_the_working_directory_comes_before_home_and_home_before_the_system(box: Box) -> None:
    box.write(box.system, "[defaults]\nforks = 1\n")
    assert box.load().value("forks") == 1
    box.write(box.home / ".ansible.cfg", "[defaults]\nforks = 2\n")
    assert box.load().value("forks") == 2
    box.write("ansible.cfg", "[defaults]\nforks = 3\n")
    assert box.load().value("forks") == 3


def test_no_file_anywhere_gives_ansibles_defaults(box: Box) -> None:
    config = box.load()
    assert config.path is None
    assert config.value("forks") == 5
    assert config.value("become") is False
    assert config.value("inventory") == ["/etc/ansible/hosts"]
    assert config.value("roles_path") == [
        f"{box.home}/.ansible/roles",
        "/usr/share/ansible/roles",
        "/etc/ansible/roles",
    ]
    assert not any(s.is_set for s in config.settings.values())


def test_a_world_writable_working_directory_is_refused_with_ansibles_warning(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\nforks = 9\n")
    box.write(box.home / ".ansible.cfg", "[defaults]\nforks = 2\n")
    box.cwd.chmod(0o777)
    path, warnings = box.found()
    assert path == box.home / ".ansible.cfg"
    assert len(warnings) == 1
    assert f"world writable directory ({box.cwd}), ignoring it as an ansible.cfg" in warnings[0]
    assert box.load().value("forks") == 2


def test_a_world_writable_directory_without_a_config_earns_no_warning(box: Box) -> None:
    box.cwd.chmod(0o777)
    assert box.found() == (None, ())


def test_ansible_config_may_still_name_the_file_in_a_world_writable_directory(box: Box) -> None:
    here = box.write("ansible.cfg", "[defaults]\nforks = 9\n")
    box.cwd.chmod(0o777)
    box.env["ANSIBLE_CONFIG"] = str(here)
    assert box.found() == (here, ())


def test_a_config_file_must_be_named_cfg_or_ini(box: Box) -> None:
    box.env["ANSIBLE_CONFIG"] = str(box.write("settings.conf", "[defaults]\n"))
    with pytest.raises(ConfigError, match=r"unsupported configuration file extension '\.conf'"):
        box.load()


# environment over file, and several sources of one setting -------------------------------


def test_the_environment_beats_the_file(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\nforks = 3\nremote_user = filer\n")
    box.env |= {"ANSIBLE_FORKS": "7"}
    config = box.load()
    assert (config.value("forks"), config["forks"].origin) == (7, "env: ANSIBLE_FORKS")
    assert config["remote_user"].origin == str(box.cwd / "ansible.cfg")
    assert str(config["remote_user"].position) == "ansible.cfg:3"


def test_of_several_ini_keys_the_last_present_wins(box: Box) -> None:
    box.write(
        "ansible.cfg",
        """
        [defaults]
        host_key_checking = False
        [ssh_connection]
        host_key_checking = True
        """,
    )
    setting = box.load()["host_key_checking"]
    assert setting.value is True
    assert str(setting.position) == "ansible.cfg:4"


def test_of_several_variables_the_last_defined_wins(box: Box) -> None:
    box.env |= {"ANSIBLE_HOST_KEY_CHECKING": "0", "ANSIBLE_SSH_HOST_KEY_CHECKING": "1"}
    setting = box.load()["host_key_checking"]
    assert (setting.value, setting.origin) == (True, "env: ANSIBLE_SSH_HOST_KEY_CHECKING")


def test_an_empty_variable_for_a_number_means_the_default(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\nforks = 3\n")
    box.env["ANSIBLE_FORKS"] = ""
    setting = box.load()["forks"]
    assert (setting.value, setting.origin) == (5, "default")


def test_the_default_section_feeds_every_section(box: Box) -> None:
    box.write("ansible.cfg", "[DEFAULT]\nbecome = yes\n[privilege_escalation]\n")
    setting = box.load()["become"]
    assert setting.value is True
    assert str(setting.position) == "ansible.cfg:2"


def test_ansible_home_moves_the_default_roles_and_collections_paths(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\nhome = .ah\n")
    config = box.load()
    assert config.value("roles_path")[0] == str(box.cwd / ".ah" / "roles")
    assert config.value("collections_path")[0] == str(box.cwd / ".ah" / "collections")


# types, as ensure_type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("yes", True),
        ("On", True),
        ("1", True),
        ("TRUE", True),
        ("t", True),
        ("y", True),
        ("no", False),
        ("maybe", False),
        ("2", False),
        ('"yes"', False),
        ("", False),
    ],
)
def test_a_boolean_is_one_of_ansibles_true_words_and_anything_else_is_false(
    box: Box, word: str, value: bool
) -> None:
    box.write("ansible.cfg", f"[privilege_escalation]\nbecome = {word}\n")
    assert box.load().value("become") is value


@pytest.mark.parametrize(("text", "value"), [("7", 7), ("7.0", 7), ("1e1", 10), (" 8 ", 8)])
def test_an_integer_takes_what_decimal_reads_without_a_fraction(
    box: Box, text: str, value: int
) -> None:
    box.write("ansible.cfg", f"[defaults]\ntimeout ={text}\n")
    assert box.load().value("timeout") == value


@pytest.mark.parametrize("text", ["abc", "7.5", "nan", "inf"])
def test_an_integer_that_is_not_one_is_an_error_at_its_line(box: Box, text: str) -> None:
    box.write("ansible.cfg", f"[defaults]\n# comment\nforks = {text}\n")
    with pytest.raises(ConfigError) as caught:
        box.load()
    assert str(caught.value).startswith(f"ansible.cfg:3: forks = '{text}' is not an integer")
    assert caught.value.exit_code == 2


def test_a_bad_variable_is_an_error_naming_it(box: Box) -> None:
    box.env["ANSIBLE_TIMEOUT"] = "soon"
    with pytest.raises(ConfigError, match="ANSIBLE_TIMEOUT = 'soon' is not an integer"):
        box.load()


def test_a_pathlist_splits_on_commas_and_resolves_against_the_files_folder(box: Box) -> None:
    box.write("conf/ansible.cfg", "[defaults]\ninventory = hosts.ini, ../inv ,/abs/x\n")
    box.env["ANSIBLE_CONFIG"] = "conf"
    assert box.load().value("inventory") == [
        str(box.cwd / "conf" / "hosts.ini"),
        str(box.cwd / "inv"),
        "/abs/x",
    ]


def test_a_variables_relative_path_is_taken_from_the_working_directory(box: Box) -> None:
    box.write("conf/ansible.cfg", "[defaults]\n")
    box.env |= {"ANSIBLE_CONFIG": "conf", "ANSIBLE_INVENTORY": "inv"}
    assert box.load().value("inventory") == [str(box.cwd / "inv")]


def test_a_pathspec_splits_on_colons_and_expands_home_variables_and_cwd(box: Box) -> None:
    box.env["ROLES"] = "/srv/roles"
    box.write("ansible.cfg", "[defaults]\nroles_path = roles::~/r:$ROLES:${NOPE}/x:{{CWD}}/w\n")
    assert box.load().value("roles_path") == [
        str(box.cwd / "roles"),
        str(box.cwd),  # an empty entry is the file's folder, as Ansible resolves it
        str(box.home / "r"),
        "/srv/roles",
        str(box.cwd / "${NOPE}" / "x"),
        str(box.cwd / "w"),
    ]


def test_a_path_is_resolved_and_a_files_string_unquoted(box: Box) -> None:
    box.write(
        "ansible.cfg",
        """
        [defaults]
        private_key_file = keys/../keys/id
        remote_user = "deploy"
        """,
    )
    config = box.load()
    assert config.value("private_key_file") == str(box.cwd / "keys" / "id")
    assert config.value("remote_user") == "deploy"


def test_a_variables_string_keeps_its_quotes(box: Box) -> None:
    box.env["ANSIBLE_REMOTE_USER"] = "'deploy'"
    assert box.load().value("remote_user") == "'deploy'"


def test_inline_comments_start_with_a_semicolon_after_a_space(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\nremote_user = ops ; the operator\nforks = 4 # x\n")
    with pytest.raises(ConfigError, match="'4 # x' is not an integer"):
        box.load()
    box.write("ansible.cfg", "[defaults]\nremote_user = ops ; the operator\n")
    assert box.load().value("remote_user") == "ops"


def test_a_choice_outside_ansibles_is_an_error_at_its_line(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\ngathering = sometimes\n")
    with pytest.raises(ConfigError, match=r"^ansible.cfg:2: gathering = 'sometimes' is not one"):
        box.load()


# unused settings ----------------------------------------------------------------------------


def test_settings_fleetkit_does_not_read_are_listed_never_an_error(box: Box) -> None:
    box.write(
        "ansible.cfg",
        """
        [defaults]
        forks = 3
        nocows = 1
        callbacks_enabled = timer, profile_tasks
        [ssh_connection]
        ssh_args = -o ControlMaster=auto
        pipelining = True
        [inventory]
        enable_plugins = yaml
        """,
    )
    box.env |= {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORKS": "4", "ANSIBLE_CONFIG": "ansible.cfg"}
    assert box.load().unused == (
        "[defaults] nocows (ansible.cfg:3)",
        "[defaults] callbacks_enabled (ansible.cfg:4)",
        "[ssh_connection] ssh_args (ansible.cfg:6)",
        "[inventory] enable_plugins (ansible.cfg:9)",
        "ANSIBLE_NOCOLOR (environment)",
    )


def test_a_continuation_line_is_part_of_its_value_not_a_key(box: Box) -> None:
    box.write("ansible.cfg", "[defaults]\nroles_path = a:\n  b\nnocows = 1\n")
    config = box.load()
    assert config.unused == ("[defaults] nocows (ansible.cfg:4)",)
    assert config.value("roles_path") == [str(box.cwd / "a"), str(box.cwd / "\nb")]


# malformed files ------------------------------------------------------------------------------

Broken = Callable[[str], ConfigError]


@pytest.fixture
def broken(box: Box) -> Broken:
    def load(text: str) -> ConfigError:
        box.write("ansible.cfg", text)
        with pytest.raises(ConfigError) as caught:
            box.load()
        assert caught.value.exit_code == 2
        return caught.value

    return load


def test_a_key_before_any_section_is_an_error_at_its_line(broken: Broken) -> None:
    err = broken("# settings\nforks = 3\n[defaults]\n")
    assert str(err).startswith(
        "ansible.cfg:2: not a valid ansible.cfg: 'forks = 3' comes before any [section] header"
    )


def test_a_key_set_twice_is_an_error_at_the_second(broken: Broken) -> None:
    err = broken("[defaults]\nforks = 3\n\nforks = 4\n")
    assert str(err).startswith("ansible.cfg:4: not a valid ansible.cfg: 'forks' is set twice")


def test_a_section_twice_is_an_error(broken: Broken) -> None:
    err = broken("[defaults]\n[ssh_connection]\n[defaults]\n")
    assert str(err).startswith("ansible.cfg:3: not a valid ansible.cfg: section [defaults]")


def test_a_line_that_is_no_setting_is_an_error_at_its_line(broken: Broken) -> None:
    err = broken("[defaults]\nforks = 3\njust words\n")
    assert str(err).startswith("ansible.cfg:3: not a valid ansible.cfg: cannot parse 'just words'")


def test_a_file_in_another_folder_is_named_by_its_full_path(box: Box) -> None:
    cfg = box.write(box.home / ".ansible.cfg", "[defaults]\nforks = x\n")
    with pytest.raises(ConfigError, match=f"^{cfg}:2: forks"):
        box.load()


def test_the_real_working_directory_and_environment_are_the_defaults(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.write("ansible.cfg", "[defaults]\nforks = 6\n")
    monkeypatch.chdir(box.cwd)
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    monkeypatch.delenv("ANSIBLE_FORKS", raising=False)
    assert os.getcwd() == str(box.cwd)
    assert load_config().value("forks") == 6
