"""template: render a Jinja2 template on the controller and put it on the host.

Looked up in <playbook dir>/templates/, then the repository's templates/. The
result goes through the same checksum-compare-then-write path as copy.
"""

from __future__ import annotations

from typing import ClassVar

from fleetkit.errors import FleetkitError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.copy import FILE_ARGS, put_content

ANSIBLE_MANAGED = "Ansible managed"
TEMPLATE_ONLY_NAMES = frozenset({"ansible_managed"})
"""Names the template module defines for its template file only (the pre-run check knows them)."""


class Template(Module):
    name = "template"
    args: ClassVar[dict[str, Arg]] = {"src": Arg("path", required=True), **FILE_ARGS}

    def run(self, ctx: ModuleContext) -> ModuleResult:
        src = str(ctx.arg("src"))
        try:
            # Ansible defines ansible_managed for templates ("Ansible managed" unless set)
            variables = {"ansible_managed": ANSIBLE_MANAGED, **ctx.variables}
            text = ctx.templar.render_file(src, variables)
        except FleetkitError as err:
            return fail(str(err))
        return put_content(ctx, str(ctx.arg("dest")), text.encode())
