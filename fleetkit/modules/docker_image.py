"""docker_image (community.docker): an image present (pulled when missing) or absent.

source=pull pulls when the image is missing (or always with force_source);
source=local only checks it is there. Returns `image` (the inspect result) as
community.docker does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, ModuleContext, ModuleResult, fail
from fleetkit.modules.docker_common import DockerApi, DockerModule


def full_name(name: str, tag: str | None) -> str:
    """name:tag, unless name already carries a tag or digest (which then wins, as upstream)."""
    last = name.rpartition("/")[2]
    if ":" in last or "@" in last:
        return name
    return f"{name}:{tag or 'latest'}"


class DockerImage(DockerModule):
    name = "docker_image"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True),
        "tag": Arg("str", default="latest"),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "source": Arg("str", choices=("pull", "local", "build", "load")),
        "force_source": Arg("bool", default=False),
        "force_absent": Arg("bool", default=False),
        "force_tag": Arg("bool", default=False),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        if args.get("source") in ("build", "load"):
            return [f"module docker_image: source={args['source']} is not supported (pull, local)"]
        return []

    def act(self, ctx: ModuleContext, api: DockerApi) -> ModuleResult:
        image = full_name(str(ctx.arg("name")), ctx.arg("tag"))
        found = api.image(image)
        if ctx.arg("state") == "absent":
            if found is None:
                return ModuleResult(msg=f"{image} absent", data={"image": {}, "actions": []})
            if not ctx.check:
                api.remove_image(image, force=bool(ctx.arg("force_absent")))
            return ModuleResult(
                changed=True,
                msg=f"{'would remove' if ctx.check else 'removed'} {image}",
                data={"image": {}, "actions": [f"Removed image {image}"]},
            )
        source = ctx.arg("source") or "pull"
        if found is not None and not (source == "pull" and ctx.arg("force_source")):
            return ModuleResult(msg=f"{image} present", data={"image": found, "actions": []})
        if source == "local":
            return fail(f"image {image} is not on the host and source=local", data={"image": {}})
        if ctx.check:
            return ModuleResult(changed=True, msg=f"would pull {image}", data={"image": {}})
        before = (found or {}).get("Id")
        api.pull(image)
        after = api.image(image) or {}
        changed = after.get("Id") != before
        return ModuleResult(
            changed=changed,
            msg=f"pulled {image}" if changed else f"{image} up to date",
            data={"image": after, "actions": [f"Pulled image {image}"] if changed else []},
        )
