"""The module's payload, built by ansible-core's own packaging (AnsiballZ).

The arguments travel inside the payload (on stdin), never on a command line,
so no secret reaches `ps` on the host. The `_ansible_*` keys are the ones
ansible-core 2.19's ActionBase._update_module_args sets, with the values it
uses for a pipelined connection (no remote temporary folder made up front).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fleetkit.modules.ansible_fallback.resolve import Resolution

REMOTE_TMP = "~/.ansible/tmp"


def module_args(
    fqcn: str,
    args: Mapping[str, Any],
    *,
    check: bool,
    diff: bool,
    no_log: bool,
    variables: Mapping[str, Any],
    verbosity: int = 0,
) -> dict[str, Any]:
    """The task's arguments plus the internal keys Ansible gives every module."""
    from ansible import constants as C
    from ansible import release
    from ansible.module_utils._internal import _traceback

    out: dict[str, Any] = json.loads(json.dumps(dict(args), default=str))
    syslog = variables.get("ansible_syslog_facility", C.DEFAULT_SYSLOG_FACILITY)
    out.update(
        _ansible_check_mode=check,
        _ansible_no_log=no_log or bool(C.config.get_config_value("DEFAULT_NO_TARGET_SYSLOG")),
        _ansible_debug=C.DEFAULT_DEBUG,
        _ansible_diff=diff,
        _ansible_verbosity=verbosity,
        _ansible_version=release.__version__,
        _ansible_module_name=fqcn,
        _ansible_syslog_facility=str(syslog),
        _ansible_selinux_special_fs=C.DEFAULT_SELINUX_SPECIAL_FS,
        _ansible_socket=None,
        _ansible_shell_executable="/bin/sh",
        _ansible_keep_remote_files=C.DEFAULT_KEEP_REMOTE_FILES,
        _ansible_tmpdir=None,
        _ansible_remote_tmp=REMOTE_TMP,
        _ansible_ignore_unknown_opts=False,
        _ansible_target_log_info=C.config.get_config_value("TARGET_LOG_INFO"),
        _ansible_tracebacks_for=_traceback.traceback_for(),
    )
    return out


def build(
    resolution: Resolution,
    args: Mapping[str, Any],
    *,
    interpreter: str,
    environment: Mapping[str, str],
) -> bytes:
    """The AnsiballZ payload for one call (ansible-core caches the zipped module code)."""
    from ansible import constants as C
    from ansible.executor.module_common import modify_module
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    assert resolution.path is not None
    task_vars = {"ansible_python_interpreter": interpreter}
    built = modify_module(
        module_name=resolution.fqcn,
        module_path=resolution.path,
        module_args=dict(args),
        templar=Templar(loader=DataLoader(), variables=task_vars),
        task_vars=task_vars,
        module_compression=C.config.get_config_value("DEFAULT_MODULE_COMPRESSION"),
        environment=dict(environment),
    )
    data: bytes = built.b_module_data
    return data
