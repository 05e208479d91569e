"""ansible.cfg found and read as ansible-core 2.19 does, with the ANSIBLE_* variables over it.

Search (ansible/config/manager.py, find_ini_config_file): the first of these that
exists and is readable: ANSIBLE_CONFIG (a file, or a folder holding ansible.cfg),
./ansible.cfg unless the working directory is world-writable (then skipped, with
Ansible's warning), ~/.ansible.cfg, /etc/ansible/ansible.cfg. The file is INI as
Ansible's configparser reads it (`;` inline comments, raw values, keys any case).

A setting's value (get_config_value_and_origin): its environment variables (of
several, the last set wins), else its ini keys (of several, the last present wins),
else Ansible's default; then typed as ensure_type does (boolean: y/yes/on/1/true/t
true, anything else false; integer; path, pathlist (`,`) and pathspec (`:`) with
`~`, `$VAR` and `{{CWD}}` expanded and relative paths taken from the file's folder
(the working directory for an environment value); a file's string value unquoted).

Only DEFINITIONS are read; every other key of the file and every other ANSIBLE_*
variable is listed in `unused` (verbose output), never an error. Command-line flags
beating both is the CLI's part (fleetkit/cli/common.py).
"""

from __future__ import annotations

import configparser
import decimal
import os
import pwd
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fleetkit.errors import ConfigError, Position

DEFAULT = "default"
"""The origin of a value neither the environment nor the file sets."""

WORLD_WRITABLE_URL = (
    "https://docs.ansible.com/ansible/devel/reference_appendices/config.html"
    "#cfg-in-world-writable-dir"
)
SYSTEM_CONFIG = Path("/etc/ansible/ansible.cfg")
BOOLEANS_TRUE = frozenset({"y", "yes", "on", "1", "true", "t"})
"""ansible.module_utils.parsing.convert_bool's true words (strict=False: the rest is false)."""


@dataclass(frozen=True)
class Definition:
    """One setting as ansible-core's base.yml (or the ssh connection plugin) declares it."""

    ansible: str
    """Ansible's name for it (DEFAULT_FORKS), as `ansible-config dump` prints it."""
    type: str | None
    ini: tuple[tuple[str, str], ...]
    env: tuple[str, ...]
    default: Any = None
    choices: tuple[str, ...] = ()


_HOME = "{ANSIBLE_HOME}"  # a default that Ansible templates from ANSIBLE_HOME

DEFINITIONS: Mapping[str, Definition] = MappingProxyType(
    {
        "home": Definition(
            "ANSIBLE_HOME", "path", (("defaults", "home"),), ("ANSIBLE_HOME",), "~/.ansible"
        ),
        "inventory": Definition(
            "DEFAULT_HOST_LIST",
            "pathlist",
            (("defaults", "inventory"),),
            ("ANSIBLE_INVENTORY",),
            ["/etc/ansible/hosts"],
        ),
        "roles_path": Definition(
            "DEFAULT_ROLES_PATH",
            "pathspec",
            (("defaults", "roles_path"),),
            ("ANSIBLE_ROLES_PATH",),
            f"{_HOME}/roles:/usr/share/ansible/roles:/etc/ansible/roles",
        ),
        "collections_path": Definition(
            "COLLECTIONS_PATHS",
            "pathspec",
            (("defaults", "collections_path"),),
            ("ANSIBLE_COLLECTIONS_PATH",),
            f"{_HOME}/collections:/usr/share/ansible/collections",
        ),
        "forks": Definition(
            "DEFAULT_FORKS", "integer", (("defaults", "forks"),), ("ANSIBLE_FORKS",), 5
        ),
        "remote_user": Definition(
            "DEFAULT_REMOTE_USER", None, (("defaults", "remote_user"),), ("ANSIBLE_REMOTE_USER",)
        ),
        "private_key_file": Definition(
            "DEFAULT_PRIVATE_KEY_FILE",
            "path",
            (("defaults", "private_key_file"),),
            ("ANSIBLE_PRIVATE_KEY_FILE",),
        ),
        "become": Definition(
            "DEFAULT_BECOME",
            "boolean",
            (("privilege_escalation", "become"),),
            ("ANSIBLE_BECOME",),
            False,
        ),
        "become_method": Definition(
            "DEFAULT_BECOME_METHOD",
            None,
            (("privilege_escalation", "become_method"),),
            ("ANSIBLE_BECOME_METHOD",),
            "sudo",
        ),
        "become_user": Definition(
            "DEFAULT_BECOME_USER",
            None,
            (("privilege_escalation", "become_user"),),
            ("ANSIBLE_BECOME_USER",),
            "root",
        ),
        "become_allow_same_user": Definition(
            "BECOME_ALLOW_SAME_USER",
            "boolean",
            (("privilege_escalation", "become_allow_same_user"),),
            ("ANSIBLE_BECOME_ALLOW_SAME_USER",),
            False,
        ),
        "timeout": Definition(
            "DEFAULT_TIMEOUT", "integer", (("defaults", "timeout"),), ("ANSIBLE_TIMEOUT",), 10
        ),
        "interpreter_python": Definition(
            "INTERPRETER_PYTHON",
            None,
            (("defaults", "interpreter_python"),),
            ("ANSIBLE_PYTHON_INTERPRETER",),
            "auto",
        ),
        "gathering": Definition(
            "DEFAULT_GATHERING",
            None,
            (("defaults", "gathering"),),
            ("ANSIBLE_GATHERING",),
            "implicit",
            ("implicit", "explicit", "smart"),
        ),
        "retry_files_enabled": Definition(
            "RETRY_FILES_ENABLED",
            "bool",
            (("defaults", "retry_files_enabled"),),
            ("ANSIBLE_RETRY_FILES_ENABLED",),
            False,
        ),
        "stdout_callback": Definition(
            "DEFAULT_STDOUT_CALLBACK",
            None,
            (("defaults", "stdout_callback"),),
            ("ANSIBLE_STDOUT_CALLBACK",),
            "default",
        ),
        # the ssh connection plugin's sources (a superset of base.yml's ANSIBLE_PIPELINING)
        "pipelining": Definition(
            "ANSIBLE_PIPELINING",
            "boolean",
            (
                ("defaults", "pipelining"),
                ("connection", "pipelining"),
                ("ssh_connection", "pipelining"),
            ),
            ("ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING"),
            False,
        ),
        "ansible_managed": Definition(
            "DEFAULT_MANAGED_STR",
            None,
            (("defaults", "ansible_managed"),),
            (),
            "Ansible managed",
        ),
        "allow_broken_conditionals": Definition(
            "ALLOW_BROKEN_CONDITIONALS",
            "boolean",
            (("defaults", "allow_broken_conditionals"),),
            ("ANSIBLE_ALLOW_BROKEN_CONDITIONALS",),
            False,
        ),
        # the ssh connection plugin's host_key_checking: the value a run uses
        "host_key_checking": Definition(
            "HOST_KEY_CHECKING",
            "boolean",
            (("defaults", "host_key_checking"), ("ssh_connection", "host_key_checking")),
            ("ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"),
            True,
        ),
    }
)

OTHER_USED_ENV = frozenset({"ANSIBLE_CONFIG", "ANSIBLE_VAULT_PASSWORD_FILE"})
"""ANSIBLE_* variables fleetkit reads elsewhere (never listed as unused)."""

TYPE_WORDS = {
    "integer": "an integer",
    "int": "an integer",
    "path": "a path",
    "pathlist": "a comma-separated list of paths",
    "pathspec": "a colon-separated list of paths",
}


@dataclass(frozen=True)
class Setting:
    """A setting's typed value and where it came from."""

    name: str
    value: Any
    origin: str
    """DEFAULT, 'env: ANSIBLE_X', or the config file's path (as ansible-config dump says)."""
    position: Position | None = None
    """file:line of the key that set it (a file value only)."""

    @property
    def is_set(self) -> bool:
        """True when the environment or the file set it (not Ansible's default)."""
        return self.origin != DEFAULT

    @property
    def where(self) -> str:
        """'ansible.cfg:3', 'ANSIBLE_FORKS' or 'default', for messages."""
        if self.position is not None:
            return str(self.position)
        return self.origin.removeprefix("env: ")


@dataclass(frozen=True)
class AnsibleConfig:
    """The config file in use (None: none found), its settings fleetkit reads, the rest."""

    path: Path | None
    settings: Mapping[str, Setting]
    unused: tuple[str, ...] = ()
    """Keys of the file ('[defaults] nocows (ansible.cfg:4)') and ANSIBLE_* variables
    fleetkit does not read."""
    warnings: tuple[str, ...] = ()
    """What finding the file warned about (a world-writable working directory)."""

    def __getitem__(self, name: str) -> Setting:
        return self.settings[name]

    def value(self, name: str) -> Any:
        return self.settings[name].value

    def given(self, name: str) -> Any:
        """The value when the environment or the file set it, else None."""
        setting = self.settings[name]
        return setting.value if setting.is_set else None


# finding the file -----------------------------------------------------------------------


def find_config(
    environ: Mapping[str, str], cwd: Path, system: Path = SYSTEM_CONFIG
) -> tuple[Path | None, tuple[str, ...]]:
    """The config file Ansible would read, and its warnings (find_ini_config_file)."""
    candidates: list[str] = []
    from_env: str | None = None
    if "ANSIBLE_CONFIG" in environ:
        from_env = resolve_path(environ["ANSIBLE_CONFIG"], cwd, cwd, environ)
        if os.path.isdir(from_env):
            from_env = os.path.join(from_env, "ansible.cfg")
        candidates.append(from_env)
    skipped_public = False
    cwd_cfg = os.path.join(cwd, "ansible.cfg")
    try:
        if os.stat(cwd).st_mode & stat.S_IWOTH:
            skipped_public = os.path.exists(cwd_cfg)
        else:
            candidates.append(cwd_cfg)
    except OSError:
        pass
    candidates.append(resolve_path("~/.ansible.cfg", cwd, cwd, environ))
    candidates.append(str(system))
    found = next((c for c in candidates if os.path.exists(c) and os.access(c, os.R_OK)), None)
    warnings: tuple[str, ...] = ()
    if skipped_public and (from_env is None or found != from_env):
        warnings = (
            f"fleetkit is being run in a world writable directory ({cwd}), ignoring it as an"
            f" ansible.cfg source, as Ansible does (see {WORLD_WRITABLE_URL})",
        )
    return (Path(found) if found is not None else None), warnings


# reading it -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IniFile:
    """A config file as Ansible's configparser reads it, with each key's line."""

    path: Path
    parser: configparser.ConfigParser = field(compare=False)
    lines: Mapping[tuple[str, str], int] = field(default_factory=dict)
    shown: Path | None = None
    """The path as messages name it (relative to the working directory when under it)."""

    def get(self, section: str, key: str) -> str | None:
        value = self.parser.get(section, key, raw=True, fallback=None)
        return None if value is None else str(value)

    def position(self, section: str, key: str) -> Position:
        line = self.lines.get((section, key)) or self.lines.get(("DEFAULT", key))
        return Position(self.shown or self.path, line)


def read_config(path: Path, shown: Path | None = None) -> IniFile:
    """Parse path as ansible-core does; ConfigError with file:line (shown) when it cannot."""
    shown = shown or path
    if path.suffix not in (".ini", ".cfg"):
        raise ConfigError(
            f"unsupported configuration file extension {path.suffix!r} for {path}",
            hint="Ansible reads an INI config file named *.cfg or *.ini",
        )
    try:
        text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from None
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",))
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as err:
        line, what = _parse_error(err, text.splitlines())
        raise ConfigError(
            f"not a valid ansible.cfg: {what}",
            position=Position(shown, line),
            hint="ansible.cfg is INI: [section] headers, then 'key = value' lines",
        ) from None
    return IniFile(path, parser, key_lines(text), shown)


def _parse_error(err: configparser.Error, lines: list[str]) -> tuple[int | None, str]:
    if isinstance(err, configparser.MissingSectionHeaderError):
        return err.lineno, f"{err.line.strip()!r} comes before any [section] header"
    if isinstance(err, configparser.DuplicateOptionError):
        return err.lineno, f"'{err.option}' is set twice in [{err.section}]"
    if isinstance(err, configparser.DuplicateSectionError):
        return err.lineno, f"section [{err.section}] appears twice"
    if isinstance(err, configparser.ParsingError) and err.errors:
        line = err.errors[0][0]
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        return line, f"cannot parse {text!r}: expected 'key = value' or a [section] header"
    return None, err.message


def key_lines(text: str) -> dict[tuple[str, str], int]:
    """(section, key) -> the line it is on, scanned as configparser reads lines."""
    out: dict[tuple[str, str], int] = {}
    section: str | None = None
    indent: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        level = len(raw) - len(raw.lstrip())
        if indent is not None and level > indent:
            continue  # a continuation line of the previous value
        header = configparser.ConfigParser.SECTCRE.match(stripped)
        if header:
            section, indent = header.group("header"), None
            continue
        option = configparser.ConfigParser.OPTCRE.match(stripped)
        if section is not None and option:
            key = option.group("option").rstrip().lower()
            out.setdefault((section, key), number)
            indent = level
    return out


# values ---------------------------------------------------------------------------------


def load_config(
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    system: Path = SYSTEM_CONFIG,
) -> AnsibleConfig:
    """The config Ansible would use from cwd with environ: found, read and typed."""
    env = os.environ if environ is None else environ
    here = Path.cwd() if cwd is None else cwd
    path, warnings = find_config(env, here, system)
    ini = read_config(path, _shown(path, here)) if path is not None else None
    settings: dict[str, Setting] = {}
    for name, definition in DEFINITIONS.items():
        home = settings["home"].value if "home" in settings else None
        settings[name] = resolve(name, definition, ini, env, here, home)
    return AnsibleConfig(
        path=path,
        settings=MappingProxyType(settings),
        unused=_unused(ini, env),
        warnings=warnings,
    )


def _shown(path: Path, cwd: Path) -> Path:
    try:
        return path.relative_to(cwd)
    except ValueError:
        return path


def resolve(
    name: str,
    definition: Definition,
    ini: IniFile | None,
    environ: Mapping[str, str],
    cwd: Path,
    home: str | None = None,
) -> Setting:
    """One setting: environment over file over default, typed; ConfigError if invalid."""
    raw: Any = None
    origin = DEFAULT
    position: Position | None = None
    for var in definition.env:
        if var in environ:
            raw, origin = environ[var], f"env: {var}"
    if raw is None and ini is not None:
        for section, key in definition.ini:
            found = ini.get(section, key)
            if found is not None:
                raw, origin, position = found, str(ini.path), ini.position(section, key)
    if raw is None:
        raw = _default(definition, home)
    from_ini = position is not None
    basedir = ini.path.parent if from_ini and ini is not None else cwd
    setting = Setting(name, None, origin, position)
    try:
        value = convert(raw, definition.type, basedir, cwd, environ, from_ini=from_ini)
    except ValueError:
        if origin.startswith("env: ") and raw == "":  # an empty variable means the default
            value = convert(_default(definition, home), definition.type, cwd, cwd, environ)
            return Setting(name, value, DEFAULT)
        raise ConfigError(
            f"{_label(name, setting)} = {raw!r} is not {TYPE_WORDS.get(str(definition.type))}"
            f" (Ansible's {definition.ansible})",
            position=position,
        ) from None
    if definition.choices and value is not None and value not in definition.choices:
        raise ConfigError(
            f"{_label(name, setting)} = {value!r} is not one of"
            f" {', '.join(definition.choices)} (Ansible's {definition.ansible})",
            position=position,
        )
    return Setting(name, value, origin, position)


def _label(name: str, setting: Setting) -> str:
    return setting.origin.removeprefix("env: ") if setting.origin.startswith("env: ") else name


def _default(definition: Definition, home: str | None) -> Any:
    default = definition.default
    if isinstance(default, str) and _HOME in default:
        return default.replace(_HOME, home or "~/.ansible")
    return list(default) if isinstance(default, list) else default


def _unused(ini: IniFile | None, environ: Mapping[str, str]) -> tuple[str, ...]:
    used_keys = {pair for d in DEFINITIONS.values() for pair in d.ini}
    used_names = {key for _, key in used_keys}
    out: list[str] = []
    if ini is not None:
        for (section, key), line in ini.lines.items():
            if (section, key) in used_keys or (section == "DEFAULT" and key in used_names):
                continue
            out.append(f"[{section}] {key} ({Position(ini.shown or ini.path, line)})")
    used_env = {v for d in DEFINITIONS.values() for v in d.env} | OTHER_USED_ENV
    out += [
        f"{var} (environment)"
        for var in sorted(environ)
        if var.startswith("ANSIBLE_") and var not in used_env
    ]
    return tuple(out)


# ensure_type ----------------------------------------------------------------------------


def convert(
    value: Any,
    kind: str | None,
    basedir: Path,
    cwd: Path,
    environ: Mapping[str, str],
    *,
    from_ini: bool = False,
) -> Any:
    """ansible-core's ensure_type: value as kind; ValueError when it cannot be."""
    if value is None:
        return None
    out = _convert(value, kind, basedir, cwd, environ)
    if isinstance(out, str) and from_ini:
        out = unquote(out)
    return out


def _convert(
    value: Any, kind: str | None, basedir: Path, cwd: Path, environ: Mapping[str, str]
) -> Any:
    kind = kind.lower() if kind else None
    if kind in ("boolean", "bool"):
        return boolean(value)
    if kind in ("integer", "int"):
        return _integer(value)
    if kind == "path" and isinstance(value, str):
        return resolve_path(value, basedir, cwd, environ)
    if kind in ("pathspec", "pathlist"):
        if isinstance(value, str):
            value = (
                value.split(":") if kind == "pathspec" else [v.strip() for v in value.split(",")]
            )
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [resolve_path(v, basedir, cwd, environ) for v in value]
        raise ValueError(value)
    if kind == "path":
        raise ValueError(value)
    return value


def boolean(value: Any) -> bool:
    """convert_bool.boolean(value, strict=False): Ansible's true words are true, all else false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower().strip() in BOOLEANS_TRUE
    return isinstance(value, int | float) and value == 1


def _integer(value: Any) -> int:
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float | str):
        try:
            number = decimal.Decimal(value)
            whole = int(number)
        except (decimal.DecimalException, ValueError, OverflowError):
            raise ValueError(value) from None
        if number == whole:
            return whole
    raise ValueError(value)


def unquote(text: str) -> str:
    """ansible.parsing.quoting.unquote: one pair of matching outer quotes removed."""
    quoted = len(text) > 1 and text[0] == text[-1] and text[0] in "\"'" and text[-2] != "\\"
    return text[1:-1] if quoted else text


def resolve_path(path: str, basedir: Path | str, cwd: Path, environ: Mapping[str, str]) -> str:
    """ansible-core's resolve_path (unfrackpath, follow=False): {{CWD}}, $VAR and ~ expanded,
    a relative path joined to basedir, normalised; symlinks kept."""
    if "{{CWD}}" in path:
        path = path.replace("{{CWD}}", str(cwd))
    expanded = expanduser(expandvars(path, environ), environ)
    if not os.path.isabs(expanded):
        expanded = os.path.join(basedir, expanded)
    return os.path.normpath(expanded)


_VAR = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)


def expandvars(path: str, environ: Mapping[str, str]) -> str:
    """posixpath.expandvars against environ: $NAME and ${NAME}; unknown names left as written."""
    if "$" not in path:
        return path
    out, index = path, 0
    while True:
        match = _VAR.search(out, index)
        if match is None:
            return out
        name = match.group(1)
        if name.startswith("{") and name.endswith("}"):
            name = name[1:-1]
        if name in environ:
            tail = out[match.end() :]
            out = out[: match.start()] + environ[name]
            index = len(out)
            out += tail
        else:
            index = match.end()


def expanduser(path: str, environ: Mapping[str, str]) -> str:
    """posixpath.expanduser with HOME from environ."""
    if not path.startswith("~"):
        return path
    end = path.find("/", 1)
    end = len(path) if end < 0 else end
    if end == 1:
        home = environ["HOME"] if "HOME" in environ else pwd.getpwuid(os.getuid()).pw_dir
    else:
        try:
            home = pwd.getpwnam(path[1:end]).pw_dir
        except KeyError:
            return path
    return (home.rstrip("/") + path[end:]) or "/"
