"""apt_repository: an APT source line present in (or absent from) the host's sources.

The line is looked for in /etc/apt/sources.list and every sources.list.d/*.list
(whitespace and option order do not matter, comments do not count): present
there is ok. Otherwise it goes into sources.list.d/FILENAME.list (Ansible's
file name from the URI by default) through the shared read-edit-write cycle,
then `apt-get update` runs when update_cache (the default, as in Ansible) is on.
Nothing is downloaded unless update_cache asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q
from fleetkit.modules.textfile import FileSpec, edit_file, join_lines, split_lines

SOURCES = "/etc/apt/sources.list"
SOURCES_D = "/etc/apt/sources.list.d"
TYPES = ("deb", "deb-src")
_OPTIONS = re.compile(r"\[[^\]]*\]")


def canonical_line(line: str) -> str | None:
    """A source line compared as APT reads it (options sorted, spaces collapsed),
    or None for comments, blanks and lines that are not one-line sources."""
    text = line.split("#", 1)[0].strip()
    words = text.split()
    if not words or words[0] not in TYPES:
        return None
    options = _OPTIONS.search(text)
    rest = _OPTIONS.sub(" ", text).split()
    opts = sorted(options.group(0)[1:-1].split()) if options else []
    head = [rest[0], f"[{' '.join(opts)}]"] if opts else [rest[0]]
    return " ".join(head + [w.rstrip("/") if i == 0 else w for i, w in enumerate(rest[1:])])


def suggest_filename(repo: str) -> str:
    """Ansible's default file name: the URI's host and path with non-alphanumerics as _."""
    text = _OPTIONS.sub("", repo)
    text = re.sub(r"\w+://", "", text)
    parts = [p for p in text.split() if p not in TYPES]
    uri = parts[0].rsplit("@", 1)[-1] if parts else "repository"
    return "_".join(re.sub("[^a-zA-Z0-9]", " ", uri).split())


class AptRepository(Module):
    name = "apt_repository"
    args: ClassVar[dict[str, Arg]] = {
        "repo": Arg("str", required=True),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "filename": Arg("str"),
        "mode": Arg("mode"),
        "update_cache": Arg("bool", default=True, aliases=("update-cache",)),
        "update_cache_retries": Arg("int", default=5),
        "codename": Arg("str"),
        "validate_certs": Arg("bool", default=True),
        "install_python_apt": Arg("bool", default=True),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        repo = str(args.get("repo") or "")
        if repo.startswith("ppa:"):
            return [f"module apt_repository: {repo}: PPAs are Ubuntu's; give the deb line"]
        if canonical_line(repo) is None:
            return [
                f"module apt_repository: repo {repo!r} is not a one-line APT source"
                " ('deb [options] URI SUITE [COMPONENT...]')"
            ]
        if len(_OPTIONS.sub(" ", repo).split()) < 3:
            return [f"module apt_repository: repo {repo!r} needs a URI and a suite"]
        filename = str(args.get("filename") or "")
        if "/" in filename:
            return ["module apt_repository: filename is a name in sources.list.d, not a path"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        repo = str(ctx.arg("repo"))
        wanted = canonical_line(repo)
        files = ctx.run(f"ls -1 {SOURCES_D}/*.list 2>/dev/null; true")
        paths = [SOURCES, *(p for p in files.stdout.splitlines() if p.strip())]
        found = [p for p in paths if _holds(ctx, p, wanted)]
        data = {"repo": repo, "state": ctx.arg("state"), "sources_list": found}
        if ctx.arg("state") == "present":
            if found:
                return ModuleResult(msg=f"already in {found[0]}", data=data)
            name = str(ctx.arg("filename") or suggest_filename(repo))
            path = f"{SOURCES_D}/{name.removesuffix('.list')}.list"

            def add(text: str | None) -> tuple[str | None, str]:
                return join_lines([*split_lines(text), repo.strip()]), f"added {repo} to {path}"

            result = edit_file(ctx, path, add, FileSpec(mode=ctx.arg("mode")))
            return _updated(ctx, result, {**data, "sources_list": [path]})
        if not found:
            return ModuleResult(msg="not present", data=data)
        changed = False
        diffs: list[str] = []
        for path in found:

            def drop(text: str | None, path: str = path) -> tuple[str | None, str]:
                kept = [ln for ln in split_lines(text) if canonical_line(ln) != wanted]
                if path != SOURCES and not any(ln.strip() for ln in kept):
                    return None, f"removed {repo} and its emptied {path}"  # as Ansible does
                return join_lines(kept), f"removed {repo} from {path}"

            result = edit_file(ctx, path, drop, FileSpec())
            if result.failed:
                return result
            changed = changed or result.changed
            diffs.append(result.diff)
        done = ModuleResult(
            changed=changed,
            msg=f"{'would have ' if ctx.check else ''}removed {repo}",
            diff="".join(diffs),
            data=data,
        )
        return _updated(ctx, done, data)


def _holds(ctx: ModuleContext, path: str, wanted: str | None) -> bool:
    res = ctx.run(f"cat -- {q(path)} 2>/dev/null; true")
    return any(canonical_line(line) == wanted for line in res.stdout.splitlines())


def _updated(ctx: ModuleContext, result: ModuleResult, data: Mapping[str, Any]) -> ModuleResult:
    """result, after `apt-get update` when the sources changed and update_cache is on."""
    if result.failed or not result.changed or ctx.check or not ctx.arg("update_cache"):
        return ModuleResult(
            changed=result.changed,
            failed=result.failed,
            msg=result.msg,
            diff=result.diff,
            data=data if not result.failed else result.data,
        )
    res = ctx.run("DEBIAN_FRONTEND=noninteractive apt-get update -q")
    if not res.ok:
        tail = (res.stderr.strip() or res.stdout.strip()).splitlines()[-1:]
        return fail(
            f"{result.msg}, but apt-get update failed (is the host offline? the source is"
            f" written; update_cache: false skips the update): {' '.join(tail)}",
            rc=res.rc,
            stderr=res.stderr,
            diff=result.diff,
            data=data,
        )
    return ModuleResult(
        changed=True, msg=f"{result.msg}; cache updated", diff=result.diff, data=data
    )
