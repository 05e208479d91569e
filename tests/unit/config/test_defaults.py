"""What an ansible.cfg gives a run (fleetkit/config/defaults.py): checked values, connection
settings under every variable, the inventory when -i is not given, the roles path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fleetkit.config.ansible_cfg import AnsibleConfig, load_config
from fleetkit.config.defaults import ConfigDefaults, inventory_sources, messages
from fleetkit.errors import ConfigError, InventoryError, UsageError
from fleetkit.playbook.roles import roles_path

pytestmark = pytest.mark.unit


def config_of(tmp_path: Path, text: str, **env: str) -> AnsibleConfig:
    (tmp_path / "ansible.cfg").write_text(textwrap.dedent(text).lstrip("\n"))
    tmp_path.chmod(0o755)
    environ = {"HOME": str(tmp_path / "home"), **env}
    return load_config(environ, tmp_path, tmp_path / "no-system.cfg")


def defaults_of(tmp_path: Path, text: str, **env: str) -> ConfigDefaults:
    return ConfigDefaults.from_config(config_of(tmp_path, text, **env))


def test_nothing_configured_keeps_fleetkits_own_defaults(tmp_path: Path) -> None:
    got = defaults_of(tmp_path, "[defaults]\n")
    assert (got.forks, got.remote_user, got.timeout, got.gathering) == (None, None, None, None)
    assert got.become is False and got.become_user is None and not got.become_allow_same_user
    assert got.retry_files_enabled is True and got.host_key_checking is True
    assert got.inventory == ()
    assert got.roles_path is not None and Path("/etc/ansible/roles") in got.roles_path


def test_configured_values_are_typed_for_the_run(tmp_path: Path) -> None:
    got = defaults_of(
        tmp_path,
        """
        [defaults]
        inventory = hosts.yml
        forks = 12
        remote_user = deploy
        private_key_file = ~/.ssh/deploy
        timeout = 30
        interpreter_python = /usr/bin/python3.11
        gathering = explicit
        retry_files_enabled = no
        allow_broken_conditionals = yes
        [privilege_escalation]
        become = true
        become_user = app
        become_allow_same_user = yes
        """,
    )
    assert got.inventory == (tmp_path / "hosts.yml",)
    assert (got.forks, got.remote_user, got.timeout) == (12, "deploy", 30.0)
    assert got.private_key_file == str(tmp_path / "home" / ".ssh" / "deploy")
    assert (got.become, got.become_user, got.become_allow_same_user) == (True, "app", True)
    assert (got.interpreter_python, got.gathering) == ("/usr/bin/python3.11", "explicit")
    assert got.retry_files_enabled is False and got.allow_broken_conditionals is True


def test_become_allow_same_user_from_the_environment(tmp_path: Path) -> None:
    got = defaults_of(tmp_path, "[defaults]\n", ANSIBLE_BECOME_ALLOW_SAME_USER="true")
    assert got.become_allow_same_user is True


@pytest.mark.parametrize("word", ["auto", "auto_silent", "auto_legacy", "auto_legacy_silent"])
def test_an_auto_interpreter_means_discovery(tmp_path: Path, word: str) -> None:
    assert (
        defaults_of(tmp_path, f"[defaults]\ninterpreter_python = {word}\n").interpreter_python
        is None
    )


def test_a_become_method_other_than_sudo_is_an_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^ansible.cfg:2: become_method = 'su': fleetkit"):
        defaults_of(tmp_path, "[privilege_escalation]\nbecome_method = su\n")
    assert defaults_of(tmp_path, "[privilege_escalation]\nbecome_method = sudo\n").become is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("forks = 0", "forks must be at least 1, got 0$"),
        ("timeout = 0", "timeout must be a number of seconds above 0"),
    ],
)
def test_values_fleetkit_cannot_run_with_are_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^ansible.cfg:2: {message}"):
        defaults_of(tmp_path, f"[defaults]\n{text}\n")


# connection settings: under every variable -------------------------------------------------


def test_connection_settings_apply_where_the_inventory_sets_none(tmp_path: Path) -> None:
    got = defaults_of(
        tmp_path,
        """
        [defaults]
        remote_user = deploy
        private_key_file = /keys/id
        timeout = 25
        [privilege_escalation]
        become_user = app
        """,
    )
    spec = got.spec_for("web1", {"ansible_host": "10.0.0.1"})
    assert (spec.address, spec.user, spec.ssh_key) == ("10.0.0.1", "deploy", "/keys/id")
    assert (spec.connect_timeout, spec.become_user) == (25.0, "app")


def test_inventory_and_extra_variables_beat_the_config(tmp_path: Path) -> None:
    got = defaults_of(tmp_path, "[defaults]\nremote_user = deploy\ntimeout = 25\n")
    hostvars = {"ansible_user": "admin", "ansible_ssh_timeout": 5}
    spec = got.spec_for("web1", hostvars)
    assert (spec.user, spec.connect_timeout) == ("admin", 5.0)
    assert got.spec_for("web1", hostvars, {"ansible_user": "root"}).user == "root"


def test_host_key_checking_off_accepts_new_keys_unless_the_host_says_otherwise(
    tmp_path: Path,
) -> None:
    got = defaults_of(tmp_path, "[defaults]\nhost_key_checking = False\n")
    assert got.spec_for("h", {}).host_key_policy == "accept-new"
    assert got.spec_for("h", {"fleetkit_host_key_policy": "verify"}).host_key_policy == "verify"
    strict = {"ansible_ssh_common_args": "-o StrictHostKeyChecking=yes"}
    assert got.spec_for("h", strict).host_key_policy == "verify"
    assert got.spec_for("h", {"ansible_host_key_checking": True}).host_key_policy == "verify"
    on = defaults_of(tmp_path, "[defaults]\nhost_key_checking = True\n")
    assert on.spec_for("h", {}).host_key_policy == "verify"


def test_turning_host_key_checking_off_warns_on_every_run(tmp_path: Path) -> None:
    said = messages(config_of(tmp_path, "[defaults]\n", ANSIBLE_HOST_KEY_CHECKING="no"))
    assert len(said.warnings) == 1
    assert said.warnings[0].startswith("host_key_checking is off (ANSIBLE_HOST_KEY_CHECKING)")
    assert messages(config_of(tmp_path, "[defaults]\nhost_key_checking = yes\n")).warnings == ()


def test_stdout_callback_is_ignored_with_a_note_and_pipelining_in_verbose_output(
    tmp_path: Path,
) -> None:
    said = messages(
        config_of(tmp_path, "[defaults]\nstdout_callback = yaml\npipelining = True\nnocows = 1\n")
    )
    assert said.warnings == (
        "stdout_callback = yaml (ansible.cfg:2) is ignored: fleetkit prints its own output"
        " (--json for JSON lines)",
    )
    assert said.verbose == (
        f"ansible.cfg: {tmp_path / 'ansible.cfg'}",
        "ansible.cfg: pipelining (ansible.cfg:3) is ignored: fleetkit always pipelines",
        "ansible.cfg: not used by fleetkit: [defaults] nocows (ansible.cfg:4)",
    )


# the inventory and the roles path -----------------------------------------------------------


def test_the_i_flag_beats_the_configured_inventory(tmp_path: Path) -> None:
    config = config_of(tmp_path, "[defaults]\ninventory = nowhere\n")
    assert inventory_sources("inv/hosts.yml", config) == (Path("inv/hosts.yml"),)


def test_the_configured_inventory_is_every_source_it_names(tmp_path: Path) -> None:
    for name in ("a.yml", "b"):
        (tmp_path / name).touch()
    config = config_of(tmp_path, "[defaults]\ninventory = a.yml,b\n")
    assert inventory_sources(None, config) == (tmp_path / "a.yml", tmp_path / "b")


def test_a_configured_inventory_that_is_missing_is_an_error_at_its_line(tmp_path: Path) -> None:
    config = config_of(tmp_path, "[defaults]\n\ninventory = gone.yml\n")
    with pytest.raises(InventoryError, match=r"^ansible.cfg:3: inventory '.*gone.yml' not found"):
        inventory_sources(None, config)


def test_no_inventory_anywhere_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no inventory given"):
        inventory_sources(None, config_of(tmp_path, "[defaults]\n"))


def test_the_roles_path_is_fleetkits_variable_else_the_configs(tmp_path: Path) -> None:
    configured = (tmp_path / "roles",)
    env = {"FLEETKIT_ROLES_PATH": "/fk/roles", "ANSIBLE_ROLES_PATH": "/env/roles"}
    assert roles_path(env, configured) == (Path("/fk/roles"),)
    # ANSIBLE_ROLES_PATH is already folded into the configured value, over the file
    assert roles_path({"ANSIBLE_ROLES_PATH": "/env/roles"}, configured) == configured
    assert roles_path({"ANSIBLE_ROLES_PATH": "/env/roles"}) == (Path("/env/roles"),)
    got = defaults_of(tmp_path, "[defaults]\nroles_path = r1:/r2\n", ANSIBLE_ROLES_PATH="/env")
    assert got.roles_path == (Path("/env"),)


def test_a_bad_variable_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^forks must be at least 1, got -2 \(ANSIBLE_FORKS\)$"):
        defaults_of(tmp_path, "[defaults]\n", ANSIBLE_FORKS="-2")
