"""template: render a Jinja2 template on the controller and put it on the host.

Looked up in the role's templates/, then <playbook dir>/templates/, then the
repository's templates/. The file sees the task's variables and the template_*
variables and ansible_managed Ansible gives it (template_vars.py); Ansible's
template options change its Jinja settings (delimiters, trim_blocks, lstrip_blocks,
newline_sequence) and the encoding written. The result goes through the same
checksum-compare-then-write path as copy.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.errors import FleetkitError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.copy import FILE_ARGS, put_content
from fleetkit.modules.template_vars import syntax_of, template_vars

TEMPLATE_ONLY_NAMES = frozenset(
    {
        "ansible_managed",
        "template_host",
        "template_path",
        "template_mtime",
        "template_uid",
        "template_run_date",
        "template_destpath",
        "template_fullpath",
    }
)
"""Names the template module defines for its template file only (the pre-run check knows them)."""


def _encoding_errors(encoding: Any) -> list[str]:
    try:
        codecs.lookup(str(encoding or "utf-8"))
    except LookupError:
        return [f"output_encoding: unknown encoding {str(encoding)!r}"]
    return []


class Template(Module):
    name = "template"
    args: ClassVar[dict[str, Arg]] = {
        "src": Arg("path", required=True),
        **FILE_ARGS,
        "trim_blocks": Arg("bool", default=True),
        "lstrip_blocks": Arg("bool", default=False),
        "newline_sequence": Arg("str", default="\n"),
        "block_start_string": Arg("str"),
        "block_end_string": Arg("str"),
        "variable_start_string": Arg("str"),
        "variable_end_string": Arg("str"),
        "comment_start_string": Arg("str"),
        "comment_end_string": Arg("str"),
        "output_encoding": Arg("str", default="utf-8"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        try:
            syntax_of(dict(args))
        except FleetkitError as err:
            return [err.message]
        return _encoding_errors(args.get("output_encoding"))

    def preflight(self, args: Mapping[str, Any], unknown: frozenset[str]) -> list[str]:
        """An output_encoding Python has no codec for, before any host is touched."""
        return [] if "output_encoding" in unknown else _encoding_errors(args.get("output_encoding"))

    def run(self, ctx: ModuleContext) -> ModuleResult:
        src = str(ctx.arg("src"))
        dest = str(ctx.arg("dest"))
        try:
            path = ctx.templar.find_template(src)
            defined = "ansible_managed" in ctx.variables
            own = template_vars(path, src, dest, None if defined else ctx.ansible_managed)
            variables: dict[str, Any] = {**ctx.variables, **own}
            if not defined:
                variables["ansible_managed"] = str(
                    ctx.templar.render(own["ansible_managed"], variables)
                )
            syntax = syntax_of(dict(ctx.args))
            text = ctx.templar.render_file(src, variables, syntax=syntax)
        except FleetkitError as err:
            return fail(str(err))
        except OSError as err:
            return fail(f"template {src}: {err.strerror or err}")
        encoding = str(ctx.arg("output_encoding") or "utf-8")
        try:
            data = text.encode(encoding, errors="surrogateescape")
        except UnicodeEncodeError as err:
            return fail(f"template {src}: cannot be written as {encoding}: {err.reason}")
        return put_content(ctx, dest, data)
