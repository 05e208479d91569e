"""The variables Ansible gives a template file it renders (the template module and the
template lookup), as ansible-core 2.19's `_template_vars.generate_ansible_template_vars`.

template_host (the controller's name), template_path (src as the task gives it),
template_fullpath, template_destpath (the module's dest; None for the lookup),
template_uid (the file's owner), template_mtime and template_run_date (datetimes),
and ansible_managed unless a variable already defines it: ansible.cfg's
`[defaults] ansible_managed` ("Ansible managed"), its `{host}`, `{uid}`, `{file}`
made the template expressions Ansible makes them, the mtime through strftime, and
the result rendered as a template in the file's own variables (Ansible marks it
trusted; it is the operator's configuration, not a host's data).
"""

from __future__ import annotations

import datetime
import os
import pwd
import time
from pathlib import Path
from typing import Any

from fleetkit.errors import TemplateError

ANSIBLE_MANAGED = "Ansible managed"
"""ansible-core's DEFAULT_MANAGED_STR default."""

SYNTAX_ARGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
)
"""Template options that change how the file is parsed (Jinja environment settings)."""

NEWLINES = {"\\n": "\n", "\\r": "\r", "\\r\\n": "\r\n"}
"""Ansible's template action takes the escaped spellings of newline_sequence too."""


def template_vars(
    path: Path, given: str, dest: str | None, managed: str | None = None
) -> dict[str, Any]:
    """The template_* variables of the file at path (`given`: src as written), and with
    `managed` (ansible.cfg's ansible_managed; None when a variable defines it) an
    `ansible_managed` still to render in these variables (see managed_template)."""
    st = path.stat()
    uid: str | int
    try:
        uid = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        uid = st.st_uid
    out: dict[str, Any] = {
        "template_host": os.uname()[1],
        "template_path": given,
        "template_mtime": datetime.datetime.fromtimestamp(st.st_mtime),
        "template_uid": uid,
        "template_run_date": datetime.datetime.now(),
        "template_destpath": dest,
        "template_fullpath": str(path),
    }
    if managed is not None:
        out["ansible_managed"] = managed_template(managed, st.st_mtime)
    return out


def managed_template(configured: str, mtime: float) -> str:
    """ansible_managed before rendering: {host}/{uid}/{file} as Ansible substitutes them,
    then strftime with the template's mtime; TemplateError for a malformed setting."""
    try:
        text = configured.format(
            host="{{ template_host }}", uid="{{ template_uid }}", file="{{ template_path }}"
        )
    except (KeyError, IndexError, ValueError) as err:
        raise TemplateError(
            f"ansible.cfg ansible_managed {configured!r}: {err!r}"
            " (it may name only {host}, {uid} and {file})"
        ) from None
    return time.strftime(text, time.localtime(mtime))


def syntax_of(args: dict[str, Any]) -> dict[str, Any]:
    """The Jinja settings a template task's arguments ask for (those given), with
    newline_sequence's escaped spelling taken as Ansible's action takes it; TemplateError
    for a newline_sequence Ansible refuses."""
    out = {k: args[k] for k in SYNTAX_ARGS if args.get(k) is not None}
    newline = out.get("newline_sequence")
    if newline is not None:
        newline = NEWLINES.get(newline, newline)
        if newline not in NEWLINES.values():
            raise TemplateError(
                f"newline_sequence needs to be one of: \\n, \\r or \\r\\n (got {newline!r})"
            )
        out["newline_sequence"] = newline
    return out
