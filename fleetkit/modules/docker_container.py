"""docker_container (community.docker): a container started/present/stopped/absent.

The existing container is compared with the wanted one (image id, command,
env, labels, published ports, restart policy, network mode); a difference
recreates it, as upstream does. A missing image is pulled first. Returns
`container` (the inspect result).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult
from fleetkit.modules.docker_common import ContainerSpec, DockerApi, DockerModule, Json
from fleetkit.modules.docker_image import full_name

STATES = ("started", "present", "stopped", "absent")
RESTART = ("no", "on-failure", "always", "unless-stopped")


def parse_ports(items: list[Any]) -> dict[str, str]:
    """["8080:80", "53:53/udp"] -> {"80/tcp": "8080", "53/udp": "53"}."""
    out: dict[str, str] = {}
    for item in items:
        host, sep, container = str(item).rpartition(":")
        if not sep or not host.isdigit():
            raise ValueError(f"published port {item!r}: expected HOST:CONTAINER[/PROTO]")
        port = container if "/" in container else f"{container}/tcp"
        out[port] = host
    return out


def spec_of(ctx: ModuleContext) -> ContainerSpec:
    command = ctx.arg("command")
    if isinstance(command, str):
        command = shlex.split(command)
    return ContainerSpec(
        name=str(ctx.arg("name")),
        image=full_name(str(ctx.arg("image")), None) if ctx.arg("image") else "",
        command=tuple(str(c) for c in command) if command is not None else None,
        env={str(k): str(v) for k, v in (ctx.arg("env") or {}).items()},
        ports=parse_ports(ctx.arg("published_ports") or []),
        labels={str(k): str(v) for k, v in (ctx.arg("labels") or {}).items()},
        restart_policy=str(ctx.arg("restart_policy") or ""),
        network_mode=str(ctx.arg("network_mode") or ""),
    )


def differences(have: Json, want: ContainerSpec, image_id: str) -> list[str]:
    """What of the wanted container the existing one does not match (names)."""
    config = have.get("Config") or {}
    host = have.get("HostConfig") or {}
    out: list[str] = []
    if image_id and have.get("Image") != image_id:
        out.append("image")
    if want.command is not None and list(config.get("Cmd") or []) != list(want.command):
        out.append("command")
    env = set(config.get("Env") or [])
    if any(f"{k}={v}" not in env for k, v in want.env.items()):
        out.append("env")
    labels = config.get("Labels") or {}
    if any(labels.get(k) != v for k, v in want.labels.items()):
        out.append("labels")
    bindings = host.get("PortBindings") or {}
    have_ports = {p: str((b or [{}])[0].get("HostPort", "")) for p, b in bindings.items()}
    if want.ports and have_ports != dict(want.ports):
        out.append("published_ports")
    policy = (host.get("RestartPolicy") or {}).get("Name") or "no"
    if want.restart_policy and policy != want.restart_policy:
        out.append("restart_policy")
    if want.network_mode and host.get("NetworkMode") != want.network_mode:
        out.append("network_mode")
    return out


class DockerContainer(DockerModule):
    name = "docker_container"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "image": Arg("str"),
        "state": Arg("str", default="started", choices=STATES),
        "command": Arg("raw"),
        "env": Arg("dict"),
        "published_ports": Arg("list", aliases=("ports",)),
        "labels": Arg("dict"),
        "restart_policy": Arg("str", choices=RESTART),
        "network_mode": Arg("str"),
        "recreate": Arg("bool", default=False),
        "restart": Arg("bool", default=False),
        "stop_timeout": Arg("int", default=10),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors: list[str] = []
        if args.get("state") in ("started", "present") and not args.get("image"):
            errors.append(f"module docker_container: state={args.get('state')} needs image")
        try:
            parse_ports(args.get("published_ports") or [])
        except ValueError as err:
            errors.append(f"module docker_container: {err}")
        return errors

    def act(self, ctx: ModuleContext, api: DockerApi) -> ModuleResult:
        spec = spec_of(ctx)
        state = str(ctx.arg("state"))
        have = api.container(spec.name)
        if state == "absent":
            if have is None:
                return ModuleResult(msg=f"{spec.name} absent", data={"container": {}})
            if not ctx.check:
                api.remove_container(spec.name)
            return self._done(ctx, ["removed"], spec.name, {})
        if state == "stopped" and have is not None and not spec.image:
            return self._stop(ctx, api, spec.name, have)
        image = api.image(spec.image)
        actions: list[str] = []
        if image is None:
            actions.append(f"pulled {spec.image}")
            if not ctx.check:
                api.pull(spec.image)
                image = api.image(spec.image)
        image_id = str((image or {}).get("Id", ""))
        if have is not None:
            diff = differences(have, spec, image_id)
            if diff or ctx.arg("recreate"):
                actions.append(f"recreated ({', '.join(diff) or 'recreate'})")
                if not ctx.check:
                    api.remove_container(spec.name)
                have = None
        if have is None:
            if not any(a.startswith("recreated") for a in actions):
                actions.append("created")
            if ctx.check:
                return self._done(
                    ctx, [*actions, *(["started"] if state == "started" else [])], spec.name, {}
                )
            api.create_container(spec)
            have = api.container(spec.name) or {}
        running = bool((have.get("State") or {}).get("Running"))
        if state == "started":
            if running and ctx.arg("restart") and "created" not in actions:
                actions.append("restarted")
                if not ctx.check:
                    api.stop(spec.name, timeout=int(ctx.arg("stop_timeout")))
                    api.start(spec.name)
            elif not running:
                actions.append("started")
                if not ctx.check:
                    api.start(spec.name)
        elif state == "stopped" and running:
            return self._stop(ctx, api, spec.name, have, actions)
        if not actions:
            return ModuleResult(msg=f"{spec.name} as wanted", data={"container": have})
        fresh = have if ctx.check else api.container(spec.name) or {}
        return self._done(ctx, actions, spec.name, fresh)

    def _stop(
        self,
        ctx: ModuleContext,
        api: DockerApi,
        name: str,
        have: Json,
        actions: list[str] | None = None,
    ) -> ModuleResult:
        actions = list(actions or [])
        if (have.get("State") or {}).get("Running"):
            actions.append("stopped")
            if not ctx.check:
                api.stop(name, timeout=int(ctx.arg("stop_timeout")))
                have = api.container(name) or {}
        if not actions:
            return ModuleResult(msg=f"{name} as wanted", data={"container": have})
        return self._done(ctx, actions, name, have)

    @staticmethod
    def _done(ctx: ModuleContext, actions: list[str], name: str, container: Json) -> ModuleResult:
        prefix = "would be " if ctx.check else ""
        return ModuleResult(
            changed=True,
            msg=f"{name} {prefix}{', '.join(actions)}",
            data={"container": container, "actions": actions},
        )
