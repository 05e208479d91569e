"""What a host's templates see at a task, in precedence order, resolved lazily.

Highest first (a higher layer hides a lower one's key whole):

1. magic: inventory_hostname, group_names, groups, hostvars, facts, playbook_dir,
   ansible_check_mode, ansible_play_name and the play's host lists, as Ansible's:
   ansible_play_hosts_all (every host of the play), ansible_play_hosts (those not
   failed), ansible_play_batch and play_hosts (the current serial batch's not failed)
2. extra vars (-e)
3. the loop variable (item, or loop_var) and ansible_loop index
4. registered results and set_fact values (per host, for the rest of the run)
5. task vars (with the vars of enclosing blocks, includes and role entries)
6. the task's role: role_path, role_name; its vars/ (with its dependencies')
7. vars/ of the play's roles (roles:, import_role, include_role public)
8. play vars_files, then 9. play vars
10. inventory vars (all < parent group < child group < host, merged by the inventory)
11. the task's role defaults/, then 12. the play's roles' defaults/
13. Jinja globals (range, dict, namespace ...)

Templated values (in every layer the user wrote: -e, task vars, vars files,
play vars, inventory) are rendered on first access against the same view, so
`url: "http://{{ address }}:{{ port }}"` works wherever it is defined.
Registered results and facts come from hosts and are never rendered again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from fleetkit.errors import TemplateError
from fleetkit.inventory.model import Inventory
from fleetkit.playbook.render import Renderer, contains_template
from fleetkit.playbook.schema import Play, Task

Layer = tuple[Mapping[str, Any], bool]

OMIT = "__fleetkit_omit_this_argument__"
"""`omit`: an argument rendered to it is dropped (`mode: "{{ m | default(omit) }}"`)."""

MAGIC_NAMES = frozenset(
    {
        "inventory_hostname",
        "inventory_hostname_short",
        "group_names",
        "groups",
        "hostvars",
        "facts",
        "play_hosts",
        "ansible_play_hosts",
        "ansible_play_hosts_all",
        "ansible_play_batch",
        "ansible_play_name",
        "playbook_dir",
        "ansible_check_mode",
        "ansible_diff_mode",
        "omit",
    }
)


class Layered(Mapping[str, Any]):
    """Layers of variables looked up top-down; templated values render once, on access."""

    __slots__ = ("_cache", "_layers", "_renderer", "_resolving")

    def __init__(self, renderer: Renderer, layers: Sequence[Layer]) -> None:
        self._renderer = renderer
        self._layers = tuple(layers)
        self._cache: dict[str, Any] = {}
        self._resolving: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        try:
            return self._cache[key]
        except KeyError:
            pass
        for mapping, templated in self._layers:
            if key in mapping:
                value = mapping[key]
                if templated and contains_template(value):
                    value = self._resolve(key, value)
                self._cache[key] = value
                return value
        raise KeyError(key)

    def _resolve(self, key: str, value: Any) -> Any:
        if key in self._resolving:
            raise TemplateError(f"variable '{key}' is defined in terms of itself")
        self._resolving.add(key)
        try:
            return self._renderer.render(value, self)
        finally:
            self._resolving.discard(key)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping, _ in self._layers)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for mapping, _ in self._layers:
            for key in mapping:
                if key not in seen:
                    seen.add(key)
                    yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def over(self, mapping: Mapping[str, Any], *, templated: bool = False) -> Layered:
        """A new view with mapping on top (used for loop items), sharing no cache."""
        return Layered(self._renderer, ((mapping, templated), *self._layers))


class _Magic(Mapping[str, Any]):
    """A host's magic variables; the play's host lists are computed when read (they
    change as hosts fail and batches pass)."""

    __slots__ = ("_lazy", "_values")

    def __init__(self, values: dict[str, Any], lazy: Mapping[str, Callable[[], Any]]) -> None:
        self._values = values
        self._lazy = lazy

    def __getitem__(self, key: str) -> Any:
        if key in self._lazy:
            return self._lazy[key]()
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values or key in self._lazy

    def __iter__(self) -> Iterator[str]:
        yield from self._values
        yield from self._lazy

    def __len__(self) -> int:
        return len(self._values) + len(self._lazy)


class HostVarsView(Mapping[str, Mapping[str, Any]]):
    """`hostvars`: every inventory host's variables, lazily: its inventory vars, facts,
    registered and set_fact values, -e and magic variables, as Ansible's hostvars
    (no play vars, vars_files or role variables)."""

    __slots__ = ("_scope",)

    def __init__(self, scope: PlayScope) -> None:
        self._scope = scope

    def __getitem__(self, host: str) -> Mapping[str, Any]:
        if host not in self._scope.inventory.hosts:
            raise KeyError(host)
        return self._scope.hostvars_of(host)

    def __iter__(self) -> Iterator[str]:
        return iter(self._scope.inventory.hosts)

    def __len__(self) -> int:
        return len(self._scope.inventory.hosts)


class PlayScope:
    """Builds each host's variables for one play of a run (runtime state shared by reference)."""

    def __init__(
        self,
        *,
        renderer: Renderer,
        inventory: Inventory,
        extra: Mapping[str, Any],
        play: Play,
        play_hosts: Sequence[str],
        runtime: Mapping[str, Mapping[str, Any]],
        facts: Mapping[str, Mapping[str, Any]],
        check: bool = False,
        diff: bool = False,
        lost: Callable[[str], bool] | None = None,
    ) -> None:
        self.renderer = renderer
        self.inventory = inventory
        self.extra = extra
        self.play = play
        self.play_hosts = list(play_hosts)
        self.runtime = runtime
        self.facts = facts
        self.check = check
        self.diff = diff
        self.groups: dict[str, list[str]] = {"all": list(inventory.hosts)}
        for name in inventory.groups:
            self.groups[name] = list(inventory.group_hosts(name))
        self.hostvars = HostVarsView(self)
        self._empty: Mapping[str, Any] = {}
        self.batch: list[str] = list(play_hosts)
        """The current serial batch (the strategy sets it before each)."""
        self.lost: Callable[[str], bool] = lost or (lambda host: False)
        """Whether a host failed or is unreachable (the strategy's host states)."""
        self._lists: Mapping[str, Callable[[], Any]] = {
            "ansible_play_hosts_all": lambda: list(self.play_hosts),
            "ansible_play_hosts": lambda: [h for h in self.play_hosts if not self.lost(h)],
            "ansible_play_batch": self._batch,
            "play_hosts": self._batch,
        }

    def _batch(self) -> list[str]:
        return [h for h in self.batch if not self.lost(h)]

    def magic(self, host: str) -> Mapping[str, Any]:
        inv_host = self.inventory.hosts.get(host)
        values = {
            "inventory_hostname": host,
            "inventory_hostname_short": host.split(".", maxsplit=1)[0],
            "group_names": list(inv_host.groups) if inv_host else [],
            "groups": self.groups,
            "hostvars": self.hostvars,
            "facts": self.facts.get(host, self._empty),
            "ansible_play_name": self.play.name,
            "playbook_dir": str(self.play.directory),
            "ansible_check_mode": self.check,
            "ansible_diff_mode": self.diff,
            "omit": OMIT,
        }
        return _Magic(values, self._lists)

    def hostvars_of(self, host: str) -> Layered:
        """What `hostvars[host]` holds: magic, -e, its runtime values and inventory vars."""
        inv_host = self.inventory.hosts.get(host)
        return Layered(
            self.renderer,
            [
                (self.magic(host), False),
                (self.extra, True),
                (self.runtime.get(host, self._empty), False),
                (inv_host.vars if inv_host else self._empty, True),
            ],
        )

    def host(
        self,
        host: str,
        task: Task | None = None,
        pending: Mapping[str, Any] | None = None,
    ) -> Layered:
        """host's variables at play level, or inside task (with its task vars).

        `pending`: facts and the registered value of a loop's earlier items, seen by
        its later items at the runtime layer (set_fact accumulating, as in Ansible).
        """
        inv_host = self.inventory.hosts.get(host)
        runtime = self.runtime.get(host, self._empty)
        layers: list[Layer] = [
            (self.magic(host), False),
            (self.extra, True),
            ({**runtime, **pending} if pending else runtime, False),
        ]
        role = task.role if task is not None else None
        if task is not None and task.vars:
            layers.append((task.vars, True))
        if role is not None:
            layers += [(role.magic, False), (role.vars, True)]
        if self.play.role_vars:
            layers.append((self.play.role_vars, True))
        layers += [
            (self.play.vars_files, True),
            (self.play.vars, True),
            (inv_host.vars if inv_host else self._empty, True),
        ]
        if role is not None and role.defaults:
            layers.append((role.defaults, True))
        if self.play.role_defaults:
            layers.append((self.play.role_defaults, True))
        layers.append((self.renderer.globals, False))
        return Layered(self.renderer, layers)

    def play_level(self) -> Layered:
        """Variables known before any host: -e, play vars and vars_files (for names, hosts:)."""
        return Layered(
            self.renderer,
            [
                (self.extra, True),
                (self.play.vars_files, True),
                (self.play.vars, True),
                (self.renderer.globals, False),
            ],
        )
