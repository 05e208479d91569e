"""What ansible.cfg (and the ANSIBLE_* variables) give a fleetkit run, below everything else.

ConfigDefaults is the typed, checked part of an AnsibleConfig that fleetkit acts on.
Each value sits where Ansible puts it: under the command line's flags (-i, -f,
--become: the CLI applies those), under play and task keywords, and under every
inventory or extra variable (`ansible_user` beats `remote_user`, as in Ansible).
A field left at its default means "not configured": fleetkit's own default holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetkit.config.ansible_cfg import AnsibleConfig, Setting, boolean
from fleetkit.connection.spec import ConnectionSpec, lookup
from fleetkit.errors import ConfigError, InventoryError, UsageError
from fleetkit.modules.template_vars import ANSIBLE_MANAGED

IGNORED = frozenset({"stdout_callback", "pipelining"})
"""Settings fleetkit reads only to say it ignores them."""
DEFAULT_INVENTORY = Path("/etc/ansible/hosts")
AUTO_INTERPRETERS = frozenset({"auto", "auto_silent", "auto_legacy", "auto_legacy_silent"})
HOST_KEY_CHECKING_VARS = ("ansible_host_key_checking", "ansible_ssh_host_key_checking")


@dataclass(frozen=True)
class ConfigDefaults:
    """The settings of an ansible.cfg fleetkit honours (empty: no config, fleetkit's own)."""

    source: Path | None = None
    inventory: tuple[Path, ...] = ()
    """The configured inventory sources (empty: none configured)."""
    roles_path: tuple[Path, ...] | None = None
    """Ansible's roles path, its default included (None: not read from a config)."""
    collections_path: tuple[Path, ...] | None = None
    forks: int | None = None
    remote_user: str | None = None
    private_key_file: str | None = None
    become: bool = False
    become_user: str | None = None
    become_allow_same_user: bool = False
    """Become even when the become user is the connection's user (Ansible skips it)."""
    timeout: float | None = None
    """The SSH connect timeout in seconds (Ansible's `timeout`)."""
    interpreter_python: str | None = None
    """The remote Python for Ansible's modules (None: discovered, as `auto` is)."""
    gathering: str | None = None
    """implicit, explicit or smart; None: fleetkit's `auto` (gather when a play reads facts)."""
    retry_files_enabled: bool = True
    allow_broken_conditionals: bool = False
    host_key_checking: bool = True
    ansible_managed: str = ANSIBLE_MANAGED
    """The ansible_managed a template file gets when no variable defines it."""

    @classmethod
    def from_config(cls, config: AnsibleConfig) -> ConfigDefaults:
        """The settings config gives, checked: a value fleetkit cannot honour is a ConfigError."""
        given = config.given
        method = config["become_method"]
        if method.is_set and method.value != "sudo":
            raise ConfigError(
                f"become_method = {method.value!r}: fleetkit becomes only with sudo",
                position=method.position,
                hint=f"set become_method = sudo (or remove it) in {method.where}",
            )
        forks = given("forks")
        if forks is not None and forks < 1:
            raise _bad(config["forks"], "forks must be at least 1")
        timeout = given("timeout")
        if timeout is not None and timeout <= 0:
            raise _bad(config["timeout"], "timeout must be a number of seconds above 0")
        interpreter = given("interpreter_python")
        retry = given("retry_files_enabled")
        checking = config.value("host_key_checking")
        return cls(
            source=config.path,
            inventory=tuple(Path(p) for p in given("inventory") or ()),
            roles_path=tuple(Path(p) for p in config.value("roles_path")),
            collections_path=tuple(Path(p) for p in config.value("collections_path")),
            forks=forks,
            remote_user=_text(given("remote_user")),
            private_key_file=_text(given("private_key_file")),
            become=bool(config.value("become")),
            become_user=_text(given("become_user")),
            become_allow_same_user=bool(config.value("become_allow_same_user")),
            timeout=float(timeout) if timeout is not None else None,
            interpreter_python=(
                None if interpreter is None or interpreter in AUTO_INTERPRETERS else interpreter
            ),
            gathering=given("gathering"),
            retry_files_enabled=True if retry is None else bool(retry),
            allow_broken_conditionals=bool(config.value("allow_broken_conditionals")),
            host_key_checking=bool(checking),
            ansible_managed=str(config.value("ansible_managed")),
        )

    def connection(self, spec: ConnectionSpec, hostvars: Mapping[str, Any]) -> ConnectionSpec:
        """spec with the configured connection settings where hostvars (merged, -e on top)
        set none: remote_user, private_key_file, timeout, become_user, host_key_checking."""
        changes: dict[str, Any] = {}
        if self.remote_user is not None and lookup(hostvars, "user") is None:
            changes["user"] = self.remote_user
        if self.private_key_file is not None and lookup(hostvars, "ssh_key") is None:
            changes["ssh_key"] = self.private_key_file
        if self.timeout is not None and lookup(hostvars, "connect_timeout") is None:
            changes["connect_timeout"] = self.timeout
        if self.become_user is not None and lookup(hostvars, "become_user") is None:
            changes["become_user"] = self.become_user
        if not self.host_key_checking and _checks_by_default(hostvars):
            changes["host_key_policy"] = "accept-new"
        return dataclasses.replace(spec, **changes) if changes else spec

    def spec_for(
        self, name: str, hostvars: Mapping[str, Any], extra: Mapping[str, Any] | None = None
    ) -> ConnectionSpec:
        """A host's ConnectionSpec from its vars (extra on top), these defaults under them."""
        merged = {**hostvars, **extra} if extra else hostvars
        return self.connection(ConnectionSpec.from_vars(name, merged), merged)


def _checks_by_default(hostvars: Mapping[str, Any]) -> bool:
    """True when the host sets no host key policy of its own (fleetkit_host_key_policy,
    StrictHostKeyChecking) and no ansible_host_key_checking that keeps checking on."""
    if lookup(hostvars, "host_key_policy") is not None:
        return False
    return not any(
        hostvars.get(var) is not None and boolean(hostvars[var]) for var in HOST_KEY_CHECKING_VARS
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _bad(setting: Setting, why: str) -> ConfigError:
    where = "" if setting.position else f" ({setting.where})"
    return ConfigError(f"{why}, got {setting.value!r}{where}", position=setting.position)


@dataclass(frozen=True)
class Messages:
    """What a command says about its config: warnings (every run) and -v lines."""

    warnings: tuple[str, ...] = ()
    verbose: tuple[str, ...] = ()


def messages(config: AnsibleConfig) -> Messages:
    """The warnings and -v lines config earns."""
    warnings = list(config.warnings)
    checking = config["host_key_checking"]
    if not checking.value:
        warnings.append(
            f"host_key_checking is off ({checking.where}): host keys no known_hosts file"
            " knows are accepted and recorded (accept-new); a changed key is still refused"
        )
    callback = config["stdout_callback"]
    if callback.is_set and callback.value != "default":
        warnings.append(
            f"stdout_callback = {callback.value} ({callback.where}) is ignored: fleetkit"
            " prints its own output (--json for JSON lines)"
        )
    broken = config["allow_broken_conditionals"]
    if broken.value:
        warnings.append(
            f"allow_broken_conditionals is on ({broken.where}): a condition whose result is"
            " not a boolean is taken as Python's bool() of it (deprecated in ansible-core 2.19)"
        )
    verbose = [f"ansible.cfg: {config.path}" if config.path else "ansible.cfg: none found"]
    verbose += [
        f"ansible.cfg: {s.name} = {s.value!r} ({s.where})"
        for s in config.settings.values()
        if s.is_set and s.name not in IGNORED
    ]
    pipelining = config["pipelining"]
    if pipelining.is_set:
        verbose.append(
            f"ansible.cfg: pipelining ({pipelining.where}) is ignored: fleetkit always pipelines"
        )
    verbose += [f"ansible.cfg: not used by fleetkit: {item}" for item in config.unused]
    return Messages(tuple(warnings), tuple(verbose))


def inventory_sources(given: str | None, config: AnsibleConfig) -> tuple[Path, ...]:
    """The inventory of a command: -i, else the configured inventory (ansible.cfg's
    `inventory` or ANSIBLE_INVENTORY: every source must exist), else /etc/ansible/hosts
    when it exists (Ansible's default); UsageError when there is none."""
    if given is not None:
        return (Path(given),)
    setting = config["inventory"]
    if setting.is_set:
        sources = tuple(Path(p) for p in setting.value)
        for source in sources:
            if not source.exists():
                named_by = "" if setting.position else f" (from {setting.where})"
                raise InventoryError(
                    f"inventory {str(source)!r} not found{named_by}",
                    position=setting.position,
                    hint="fix the inventory setting, or give -i INV",
                )
        return sources
    if DEFAULT_INVENTORY.exists():
        return (DEFAULT_INVENTORY,)
    raise UsageError(
        "no inventory given",
        hint="give -i INV, or set inventory in ansible.cfg ([defaults] inventory = PATH)"
        " or ANSIBLE_INVENTORY",
    )
