"""The small system collectors: platform, user, python, date_time, env, dns, cmdline,
selinux/apparmor/fips/caps/chroot, loadavg, ssh host keys, local facts, initiator names.

Each function is one of ansible-core 2.19's collectors, reading the dump where the
collector reads the host (the Python probe where it asks the interpreter).
"""

from __future__ import annotations

import base64
import configparser
import datetime as dt
import io
import json
import re
import shlex
from typing import Any

from fleetkit.executor.facts.dump import Dump

Facts = dict[str, Any]
SELINUX_MODE = {1: "enforcing", 0: "permissive", -1: "disabled"}
SOLARIS_I86 = re.compile(r"i([3456]86|86pc)")


def uname(dump: Dump) -> tuple[str, str, str, str, str]:
    """(system, node, release, version, machine), from the interpreter or `uname`."""
    probe = dump.python.get("uname")
    if isinstance(probe, list) and len(probe) == 5:
        return (str(probe[0]), str(probe[1]), str(probe[2]), str(probe[3]), str(probe[4]))
    words = dump.value("uname_snrm").split()
    system, node, release, machine = [*words, "", "", "", ""][:4]
    return system, node, release, dump.value("uname_v"), machine


def platform_facts(dump: Dump) -> Facts:
    system, node, release, version, machine = uname(dump)
    py = dump.python
    bits = str(py.get("bits") or f"{dump.value('bits')}bit").replace("bit", "")
    fqdn = str(py.get("fqdn") or _shell_fqdn(dump))
    facts: Facts = {
        "system": system,
        "kernel": release,
        "kernel_version": version,
        "machine": machine,
        "python_version": str(py.get("python_version", "")),
        "fqdn": fqdn,
        "hostname": node.split(".")[0],
        "nodename": node,
        "domain": ".".join(fqdn.split(".")[1:]),
        "userspace_bits": bits,
    }
    if not py:
        del facts["python_version"]
    if machine == "x86_64":
        facts["architecture"] = machine
        if bits in ("64", "32"):
            facts["userspace_architecture"] = "x86_64" if bits == "64" else "i386"
    elif SOLARIS_I86.search(machine):
        facts["architecture"] = "i386"
        if bits in ("64", "32"):
            facts["userspace_architecture"] = "x86_64" if bits == "64" else "i386"
    else:
        facts["architecture"] = machine
    machine_id = dump.content("/var/lib/dbus/machine-id") or dump.content("/etc/machine-id")
    if machine_id:
        facts["machine_id"] = machine_id.splitlines()[0]
    return facts


def _shell_fqdn(dump: Dump) -> str:
    """socket.getfqdn() from `getent hosts` (no interpreter): the first name with a dot."""
    name = dump.value("fqdn_name")
    out = dump.output("fqdn")
    words = out.lines[0].split() if out.ok and out.lines else []
    if len(words) >= 2:
        names = words[1:]
        return next((n for n in names if "." in n), names[0])
    return name


def user_facts(dump: Dump) -> Facts:
    py = dump.python
    if "pw" in py and "ids" in py:
        name, pw_uid, pw_gid, gecos, home, shell = py["pw"]
        uid, euid, gid = py["ids"]
        user = py.get("user", name)
    else:
        ids = dump.value("ids").split()
        uid = euid = int(ids[0]) if ids else -1
        gid = int(ids[1]) if len(ids) > 1 else -1
        out = dump.output("passwd")
        fields = ((out.lines[0] if out.lines else "").split(":") + [""] * 7)[:7]
        name, gecos, home, shell = fields[0], fields[4], fields[5], fields[6]
        pw_uid, pw_gid = _int(fields[2], uid), _int(fields[3], gid)
        user = dump.value("login") or name
    return {
        "user_id": user,
        "user_uid": pw_uid,
        "user_gid": pw_gid,
        "user_gecos": gecos,
        "user_dir": home,
        "user_shell": shell,
        "real_user_id": uid,
        "effective_user_id": euid,
        "real_group_id": gid,
        "effective_group_id": gid,
    }


def python_facts(dump: Dump) -> Facts:
    py = dump.python
    if "version_info" not in py:
        return {}
    info = list(py["version_info"])
    return {
        "python": {
            "version": {
                "major": info[0],
                "minor": info[1],
                "micro": info[2],
                "releaselevel": info[3],
                "serial": info[4],
            },
            "version_info": info,
            "executable": py.get("executable"),
            "has_sslcontext": bool(py.get("sslcontext")),
            "type": py.get("type"),
        }
    }


def date_time_facts(dump: Dump) -> Facts:
    stamp = dump.python.get("time")
    if isinstance(stamp, list) and len(stamp) == 4:
        epoch, tz, tz_dst, offset = float(stamp[0]), str(stamp[1]), str(stamp[2]), str(stamp[3])
    else:
        words = dump.value("date").split()
        if len(words) < 3:
            return {}
        epoch, tz, offset = float(words[0]), words[1], words[2]
        tz_dst = tz
    sign = -1 if offset.startswith("-") else 1
    delta = dt.timedelta(hours=_int(offset[1:3]), minutes=_int(offset[3:5])) * sign
    utc = dt.datetime.fromtimestamp(epoch, dt.UTC)
    now = utc.astimezone(dt.timezone(delta)).replace(tzinfo=None)
    seconds = str(int(epoch))
    return {
        "date_time": {
            "year": now.strftime("%Y"),
            "month": now.strftime("%m"),
            "weekday": now.strftime("%A"),
            "weekday_number": now.strftime("%w"),
            "weeknumber": now.strftime("%W"),
            "day": now.strftime("%d"),
            "hour": now.strftime("%H"),
            "minute": now.strftime("%M"),
            "second": now.strftime("%S"),
            "epoch": seconds,
            "epoch_int": seconds,
            "date": now.strftime("%Y-%m-%d"),
            "time": now.strftime("%H:%M:%S"),
            "iso8601_micro": utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "iso8601": utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "iso8601_basic": now.strftime("%Y%m%dT%H%M%S%f"),
            "iso8601_basic_short": now.strftime("%Y%m%dT%H%M%S"),
            "tz": tz,
            "tz_dst": tz_dst,
            "tz_offset": offset,
        }
    }


def env_facts(dump: Dump) -> Facts:
    env = dump.python.get("env")
    if isinstance(env, dict):
        return {"env": {str(k): str(v) for k, v in env.items()}}
    out = dump.output("env0")
    try:
        data = base64.b64decode("".join(out.lines)).decode(errors="surrogateescape")
    except ValueError:
        data = ""
    found: dict[str, str] = {}
    for item in data.split("\0"):
        key, eq, value = item.partition("=")
        if eq and key:
            found[key] = value
    return {"env": found}


def dns_facts(dump: Dump) -> Facts:
    dns: dict[str, Any] = {}
    for line in (dump.content("/etc/resolv.conf", "") or "").splitlines():
        if line.startswith(("#", ";")) or not line.strip():
            continue
        tokens = line.split()
        if tokens[0] == "nameserver":
            dns.setdefault("nameservers", []).extend(tokens[1:])
        elif tokens[0] == "domain":
            if len(tokens) > 1:
                dns["domain"] = tokens[1]
        elif tokens[0] == "search":
            dns["search"] = tokens[1:]
        elif tokens[0] == "sortlist":
            dns["sortlist"] = tokens[1:]
        elif tokens[0] == "options":
            options: dict[str, Any] = {}
            for option in tokens[1:]:
                name, colon, value = option.partition(":")
                options[name] = value if colon and value else True
            dns["options"] = options
    return {"dns": dns}


def cmdline_facts(dump: Dump) -> Facts:
    data = dump.content("/proc/cmdline")
    if not data:
        return {}
    last: dict[str, Any] = {}
    every: dict[str, Any] = {}
    try:
        pieces = shlex.split(data, posix=False)
    except ValueError:
        pieces = []
    for piece in pieces:
        key, eq, value = piece.partition("=")
        if not eq:
            last[key] = every[key] = True
            continue
        last[key] = value
        if key in every:
            prev = every[key]
            every[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            every[key] = value
    return {"cmdline": last, "proc_cmdline": every}


def apparmor_facts(dump: Dump) -> Facts:
    enabled = dump.exists("/sys/kernel/security/apparmor")
    return {"apparmor": {"status": "enabled" if enabled else "disabled"}}


def selinux_facts(dump: Dump) -> Facts:
    se = dump.python.get("selinux")
    if not dump.python and dump.value("libselinux"):
        se = _selinux_from_files(dump)
    if not isinstance(se, dict):
        return {
            "selinux": {"status": "Missing selinux Python library"},
            "selinux_python_present": False,
        }
    facts: dict[str, Any] = {}
    if not se.get("enabled"):
        facts["status"] = "disabled"
    else:
        facts["status"] = "enabled"
        facts["policyvers"] = se.get("policyvers", "unknown")
        rc, mode = (se.get("config_mode") or [-1, None])[:2]
        facts["config_mode"] = SELINUX_MODE.get(mode, "unknown") if rc == 0 else "unknown"
        facts["mode"] = SELINUX_MODE.get(_int(str(se.get("mode")), -2), "unknown")
        rc, kind = (se.get("type") or [-1, None])[:2]
        facts["type"] = kind if rc == 0 else "unknown"
    return {"selinux": facts, "selinux_python_present": True}


def _selinux_from_files(dump: Dump) -> dict[str, Any]:
    """What libselinux would answer, from selinuxfs and /etc/selinux/config (no Python)."""
    enforce = dump.content("/sys/fs/selinux/enforce")
    if enforce is None:
        return {"enabled": 0}
    config: dict[str, str] = {}
    for line in dump.file_lines("/etc/selinux/config"):
        key, eq, value = line.strip().partition("=")
        if eq and not key.startswith("#"):
            config[key.strip()] = value.strip()
    modes = {"enforcing": 1, "permissive": 0, "disabled": -1}
    mode = modes.get(config.get("SELINUX", "").lower())
    kind = config.get("SELINUXTYPE")
    return {
        "enabled": 1,
        "policyvers": _int(dump.content("/sys/fs/selinux/policyvers") or "", -1),
        "config_mode": [0 if mode is not None else -1, mode],
        "mode": _int(enforce, -1),
        "type": [0 if kind else -1, kind],
    }


def fips_facts(dump: Dump) -> Facts:
    return {"fips": dump.content("/proc/sys/crypto/fips_enabled") == "1"}


def caps_facts(dump: Dump) -> Facts:
    facts: Facts = {"system_capabilities_enforced": "N/A", "system_capabilities": "N/A"}
    out = dump.output("capsh")
    if dump.binary("capsh") and out.ok:
        enforced, caps = "NA", []
        for line in out.lines:
            if line.startswith("Current:"):
                if line.split(":")[1].strip() == "=ep":
                    enforced = "False"
                else:
                    enforced = "True"
                    caps = [c.strip() for c in line.split("=")[1].split(",")]
        facts = {"system_capabilities_enforced": enforced, "system_capabilities": caps}
    return facts


def chroot_facts(dump: Dump) -> Facts:
    py = dump.python
    if "chroot" in py:
        return {"is_chroot": bool(py["chroot"])}
    env = env_facts(dump)["env"]
    if env.get("debian_chroot"):
        return {"is_chroot": True}
    if "root_ino" in py:
        root_ino = int(py["root_ino"])
    else:
        out = dump.output("chroot")
        pairs = [line.split() for line in out.lines]
        if out.ok and len(pairs) == 2:
            return {"is_chroot": pairs[0] != pairs[1]}
        root_ino = _int(pairs[0][1]) if pairs and len(pairs[0]) > 1 else 2
    fstype = dump.output("rootfs").text
    expected = 256 if "btrfs" in fstype else 128 if "xfs" in fstype else 2
    return {"is_chroot": root_ino != expected}


def loadavg_facts(dump: Dump) -> Facts:
    load = dump.python.get("loadavg")
    if not (isinstance(load, list) and len(load) == 3):
        words = (dump.content("/proc/loadavg") or "").split()[:3]
        try:
            load = [float(w) for w in words]
        except ValueError:
            return {}
        if len(load) != 3:
            return {}
    return {"loadavg": {"1m": load[0], "5m": load[1], "15m": load[2]}}


def ssh_pub_key_facts(dump: Dump) -> Facts:
    facts: Facts = {}
    for keydir in ("/etc/ssh", "/etc/openssh", "/etc"):
        for algo in ("dsa", "rsa", "ecdsa", "ed25519"):
            name = f"ssh_host_key_{algo}_public"
            if name in facts:
                return facts
            data = dump.content(f"{keydir}/ssh_host_{algo}_key.pub")
            if data is not None:
                words = data.split()
                if len(words) >= 2:
                    facts[name] = words[1]
                    facts[f"{name}_keytype"] = words[0]
    return facts


def local_facts(dump: Dump, fact_path: str) -> tuple[Facts, list[str]]:
    """The facts.d files (JSON, else INI; executables run), and the warnings they give."""
    warnings: list[str] = []
    local: dict[str, Any] = {}
    if not fact_path or not dump.exists(fact_path):
        return {"local": {}}, warnings
    names = sorted(
        {p for p in dump.kinds if p.startswith(f"{fact_path}/") and p.endswith(".fact")}
        | {
            n[len("fact:") :]
            for n in dump.outputs
            if n.startswith(f"fact:{fact_path}/") and n.endswith(".fact")
        }
    )
    for fn in names:
        base = fn.rsplit("/", 1)[1].replace(".fact", "")
        run = dump.output(f"fact:{fn}")
        if run.rc is not None:
            if run.rc != 0:
                err = dump.output(f"facterr:{fn}").text
                local[base] = f"Failure executing fact script ({fn}), rc: {run.rc}, err: {err}"
                warnings.append(local[base])
                continue
            out = run.text
        else:
            out = dump.content(fn, "") or ""
        local[base] = _fact_value(out, fn, warnings)
    return {"local": local}, warnings


def _fact_value(out: str, fn: str, warnings: list[str]) -> Any:
    try:
        return json.loads(out)
    except ValueError:
        pass
    parser = configparser.ConfigParser()
    try:
        parser.read_file(io.StringIO(out))
    except configparser.Error:
        message = f"error loading facts as JSON or ini - please check content: {fn}"
        warnings.append(message)
        return message
    fact: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        fact[section] = {}
        for option in parser.options(section):
            try:
                fact[section][option] = parser.get(section, option)
            except configparser.Error as err:
                message = f"error loading facts as ini - please check content: {fn} ({err})"
                warnings.append(message)
                return message
    return fact


def iscsi_facts(dump: Dump) -> Facts:
    iqn = ""
    for line in (dump.content("/etc/iscsi/initiatorname.iscsi", "") or "").splitlines():
        if line.startswith(("#", ";")) or not line.strip():
            continue
        if line.startswith("InitiatorName="):
            iqn = line.split("=", 1)[1]
            break
    return {"iscsi_iqn": iqn}


def nvme_facts(dump: Dump) -> Facts:
    nqn = ""
    for line in (dump.content("/etc/nvme/hostnqn", "") or "").splitlines():
        if line.startswith(("#", ";")) or not line.strip():
            continue
        if line.startswith("nqn."):
            nqn = line
            break
    return {"hostnqn": nqn}


def fc_wwn_facts(dump: Dump) -> Facts:
    wwn: list[str] = []
    for path in dump.files:
        if re.fullmatch(r"/sys/class/fc_host/[^/]+/port_name", path):
            wwn.extend(line.rstrip()[2:] for line in dump.file_lines(path))
    return {"fibre_channel_wwn": wwn}


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        return default
