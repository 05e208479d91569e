"""A playbook run from the command line's inputs: prepare (validate all), execute, finish.

`prepare` does everything that can fail on bad input -- extra vars, inventory,
--limit, playbook, every play's hosts, templates and names -- and raises a
FleetkitError (exit 2) before any host is touched. `execute` runs the plays on a
HostPool; `finish` writes the retry file. The CLI only wires these to output.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetkit.config.defaults import ConfigDefaults
from fleetkit.connection.base import Connection
from fleetkit.connection.spec import LOCAL_NAMES, ConnectionSpec
from fleetkit.errors import PatternError, PlaybookError, TemplateError
from fleetkit.inventory.model import Inventory
from fleetkit.inventory.playbook_vars import PlaybookVars
from fleetkit.playbook.schema import Play, Playbook
from fleetkit.report.base import Reporter
from fleetkit.results import RunResult
from fleetkit.text import did_you_mean

if TYPE_CHECKING:
    from fleetkit.orchestrators.factory import EngineOpener

ConnectionMaker = Callable[[str], Connection]


@dataclass(frozen=True)
class RunRequest:
    """What the user asked for, as given on the command line."""

    playbook: Path
    inventory: Path | tuple[Path, ...]
    limit: str | None = None
    extra_vars: tuple[str, ...] = ()
    check: bool = False
    diff: bool = False
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    forks: int | None = None
    cwd: Path = field(default_factory=Path.cwd)
    start_at_task: str | None = None
    defaults: ConfigDefaults = field(default_factory=ConfigDefaults)
    """What ansible.cfg and ANSIBLE_* set, under every flag, keyword and variable."""


@dataclass(frozen=True)
class Prepared:
    """A validated run: the playbook, the inventory and each play's hosts."""

    request: RunRequest
    playbook: Playbook
    inventory: Inventory
    extra: Mapping[str, Any]
    plays: tuple[tuple[Play, tuple[str, ...]], ...]
    specs: Mapping[str, ConnectionSpec]
    warnings: tuple[str, ...] = ()
    search_paths: tuple[Path, ...] = ()
    playbook_vars: PlaybookVars = field(default_factory=PlaybookVars)
    """group_vars/ and host_vars/ beside each play's playbook file (rows 4, 6, 9)."""

    def play_inventory(self, inventory: Inventory, play: Play) -> Inventory:
        """inventory with the vars beside play's playbook file, as ansible-playbook reads them."""
        return self.playbook_vars.apply(inventory, play.directory)

    @property
    def hosts(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for _, hosts in self.plays:
            seen.update(dict.fromkeys(hosts))
        return tuple(seen)


def split_tags(values: Sequence[str]) -> frozenset[str]:
    """-t a,b -t c -> {'a', 'b', 'c'}."""
    return frozenset(t.strip() for v in values for t in v.split(",") if t.strip())


def template_paths(playbook: Path, cwd: Path) -> tuple[Path, ...]:
    """Where templates are looked up: beside the playbook first, then the repository's."""
    base = playbook.resolve().parent
    candidates = [base / "templates", base, base.parent / "templates", cwd / "templates"]
    out: list[Path] = []
    for c in candidates:
        if c.is_dir() and c not in out:
            out.append(c)
    return tuple(out)


class HostSpecs(Mapping[str, ConnectionSpec]):
    """Connection specs per host name, from inventory vars with -e on top; built on use.

    Names outside the inventory that mean this machine (localhost) get a local
    connection, so `delegate_to: localhost` works without an inventory entry.
    """

    def __init__(
        self,
        inventory: Inventory,
        extra: Mapping[str, Any],
        defaults: ConfigDefaults | None = None,
    ) -> None:
        self._inventory = inventory
        self._extra = extra
        self._defaults = defaults or ConfigDefaults()
        self._cache: dict[str, ConnectionSpec] = {}

    def __getitem__(self, name: str) -> ConnectionSpec:
        spec = self._cache.get(name)
        if spec is None:
            host = self._inventory.hosts.get(name)
            if host is not None:
                spec = self._defaults.spec_for(name, host.vars, self._extra)
            elif name in LOCAL_NAMES:
                spec = ConnectionSpec(name=name, address=name, local=True)
            else:
                raise KeyError(name)
            self._cache[name] = spec
        return spec

    def reload(self, inventory: Inventory) -> None:
        """Use a re-read inventory (meta: refresh_inventory) from now on."""
        self._inventory = inventory
        self._cache.clear()

    def __iter__(self) -> Iterator[str]:
        return iter(self._inventory.hosts)

    def __len__(self) -> int:
        return len(self._inventory.hosts)

    def __contains__(self, name: object) -> bool:
        return name in self._inventory.hosts or name in LOCAL_NAMES


def prepare(request: RunRequest) -> Prepared:
    """Validate everything the run needs; FleetkitError (exit 2) before any host is touched."""
    from fleetkit.inventory.extra_vars import parse_extra_vars
    from fleetkit.inventory.load import load_inventory
    from fleetkit.inventory.select import select_hosts, with_implicit_localhost
    from fleetkit.playbook.check import check_playbook, fallback_warnings
    from fleetkit.playbook.load import load_playbook
    from fleetkit.playbook.render import Renderer
    from fleetkit.playbook.roles import roles_path

    extra = parse_extra_vars(list(request.extra_vars), request.cwd)
    inventory = load_inventory(request.inventory)
    if request.limit:
        select_hosts(inventory, "all", request.limit, cwd=request.cwd)
    playbook = load_playbook(
        request.playbook,
        extra,
        roles_path=roles_path(configured=request.defaults.roles_path),
        collections_path=request.defaults.collections_path,
    )
    # `hosts: localhost` without one in the inventory: Ansible's implicit localhost
    inventory = with_implicit_localhost(inventory, *(play.hosts for play in playbook.plays))
    paths = template_paths(playbook.path, request.cwd)
    renderer = Renderer(paths)
    warnings: list[str] = list(inventory.warnings)
    plays: list[tuple[Play, tuple[str, ...]]] = []
    for play in playbook.plays:
        try:
            hosts = play_hosts(play, inventory, renderer, extra, request)
        except PatternError as err:
            warnings.append(f"play '{play.name}' ({play.pos}): {err.message}; play skipped")
            hosts = ()
        plays.append((play, hosts))
    warnings += _unknown_tags(playbook, request.tags | request.skip_tags)
    warnings += fallback_warnings(playbook)
    if playbook.plays and not any(hosts for _, hosts in plays):
        raise PatternError(
            "no play of the playbook matches any host"
            + (f" within --limit {request.limit}" if request.limit else ""),
            hint="check each play's hosts: pattern against `fleetkit inventory --graph`",
        )
    # connection settings from the top-level playbook's group_vars/host_vars too
    playbook_vars = PlaybookVars()
    specs = HostSpecs(playbook_vars.apply(inventory, playbook.path.parent), extra, request.defaults)
    selected = {h for _, hosts in plays for h in hosts}
    for name in selected:
        specs[name]  # bad connection variables are input errors: report them now
    known: set[str] = set(extra)
    for play, hosts in plays:
        seen_by_play = playbook_vars.apply(inventory, play.directory)
        for name in hosts:
            known.update(seen_by_play.hosts[name].vars)
    check_playbook(playbook, renderer, known, extra=extra, gathering=request.defaults.gathering)
    _check_delegates(playbook, inventory)
    return Prepared(
        request=request,
        playbook=playbook,
        inventory=inventory,
        extra=extra,
        plays=tuple(plays),
        specs=specs,
        warnings=tuple(warnings),
        search_paths=paths,
        playbook_vars=playbook_vars,
    )


def play_hosts(
    play: Play,
    inventory: Inventory,
    renderer: Any,
    extra: Mapping[str, Any],
    request: RunRequest,
) -> tuple[str, ...]:
    """The hosts of play in inventory (its templated hosts: rendered), within --limit."""
    from fleetkit.inventory.select import select_hosts
    from fleetkit.playbook.render import is_template
    from fleetkit.playbook.variables import Layered

    pattern = play.hosts
    if is_template(pattern):
        level = Layered(
            renderer,
            [
                (extra, True),
                (play.vars_files, True),
                (play.vars, True),
                ({"groups": _groups(inventory)}, False),
                (renderer.globals, False),
            ],
        )
        try:
            pattern = str(renderer.render(pattern, level))
        except TemplateError as err:
            raise TemplateError(
                f"play '{play.name}': hosts: {err.message}", position=play.pos
            ) from None
    return tuple(select_hosts(inventory, pattern, request.limit, cwd=request.cwd))


SPECIAL_TAGS = frozenset({"all", "tagged", "untagged", "always", "never"})


def _groups(inventory: Inventory) -> dict[str, list[str]]:
    """Ansible's `groups` magic variable, for templated play `hosts:` patterns."""
    return {"all": list(inventory.hosts)} | {
        name: list(inventory.group_hosts(name)) for name in inventory.groups
    }


def _unknown_tags(playbook: Playbook, asked: frozenset[str]) -> list[str]:
    """Warnings for --tags/--skip-tags names that no task carries (likely typos)."""
    from fleetkit.playbook.check import walk

    known = {t for play in playbook.plays for task in walk(play.tasks) for t in task.tags}
    out = []
    for tag in sorted(asked - known - SPECIAL_TAGS):
        tail = did_you_mean(tag, known)
        out.append(f"tag '{tag}' is on no task of {playbook.path}{tail}")
    return out


def _check_delegates(playbook: Playbook, inventory: Inventory) -> None:
    from fleetkit.playbook.check import walk
    from fleetkit.playbook.render import is_template

    for play in playbook.plays:
        for task in walk((*play.tasks, *play.handlers)):
            target = task.delegate_to
            if target is None or is_template(target):
                continue
            if target not in inventory.hosts and target not in LOCAL_NAMES:
                tail = did_you_mean(target, inventory.hosts)
                raise PlaybookError(
                    f"{task.where}: delegate_to '{target}' is not an inventory host{tail}",
                    position=task.pos,
                )


def execute(
    prepared: Prepared,
    reporter: Reporter,
    *,
    connect: ConnectionMaker | None = None,
    sleep: Callable[[float], None] | None = None,
    docker_engine: EngineOpener | None = None,
) -> RunResult:
    """Run the prepared plays; connect makes a host's connection (SSH/local by default),
    docker_engine a host's Docker engine (over that connection by default)."""
    from fleetkit.connection.factory import ConnectionFactory
    from fleetkit.executor.pool import HostPool, default_forks
    from fleetkit.playbook.render import Renderer
    from fleetkit.playbook.strategy import PlaybookRun, RunOptions

    request = prepared.request
    maker: ConnectionMaker = connect or ConnectionFactory(prepared.specs)
    forks = request.forks or default_forks(len(prepared.hosts))
    options = RunOptions(
        check=request.check,
        diff=request.diff,
        tags=request.tags,
        skip_tags=request.skip_tags,
        start_at_task=request.start_at_task,
        defaults=request.defaults,
    )
    for message in prepared.warnings:
        reporter.warning(message)
    with HostPool(maker, forks) as pool:
        run = PlaybookRun(
            pool=pool,
            inventory=prepared.inventory,
            renderer=Renderer(prepared.search_paths, request.defaults.ansible_managed),
            reporter=reporter,
            extra_vars=prepared.extra,
            options=options,
            sleep=sleep or time.sleep,
            refresh=partial(_refresh, prepared),
            play_inventory=prepared.play_inventory,
            docker_engine=docker_engine,
        )
        return run.run(prepared.plays)


def _refresh(prepared: Prepared, plays: Sequence[Play]) -> tuple[Inventory, list[tuple[str, ...]]]:
    """meta: refresh_inventory: the inventory file read again, the later plays' hosts in it."""
    from fleetkit.inventory.load import load_inventory
    from fleetkit.playbook.render import Renderer

    request = prepared.request
    inventory = load_inventory(request.inventory)
    renderer = Renderer(prepared.search_paths)
    selected: list[tuple[str, ...]] = []
    for play in plays:
        try:
            selected.append(play_hosts(play, inventory, renderer, prepared.extra, request))
        except PatternError:
            selected.append(())
    if isinstance(prepared.specs, HostSpecs):
        top = prepared.playbook.path.parent
        prepared.specs.reload(prepared.playbook_vars.apply(inventory, top))
    return inventory, selected


def finish(prepared: Prepared, result: RunResult) -> RunResult:
    """Write the retry file when hosts failed or were unreachable; the result naming it."""
    from fleetkit.retry import record_retry

    request = prepared.request
    if not request.defaults.retry_files_enabled:
        return result
    return record_retry(
        result, prepared.playbook.path.stem, request.cwd, what=str(request.playbook)
    )
