"""What makes a held connection what it is, so a changed inventory never reuses a wrong one.

The key is the whole resolved ConnectionSpec (name, address, port, user, key path,
jump, host-key policy, known_hosts path, become user, timeouts, output cap) plus
fingerprints of every file the connection was made from: the private key, every
known_hosts file host-key checking reads (sha256 and mtime), the ssh_config and
Fabric config files, and the client's HOME and SSH_AUTH_SOCK. Any difference is
another connection.

The known_hosts files are those of connection/hostkeys.py, as OpenSSH reads them:
the inventory's file or else ssh_config's UserKnownHostsFile (default
~/.ssh/known_hosts and ~/.ssh/known_hosts2), and GlobalKnownHostsFile (default
/etc/ssh/ssh_known_hosts and /etc/ssh/ssh_known_hosts2). Every file any line of the
ssh_config files names is fingerprinted, whichever Host block it is in (also a
ProxyJump hop's): a superset, so a change to any file a check may read gives a new
connection (at worst one that did not need to be new), never a reused one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fleetkit.connection.spec import ConnectionSpec

ENV_NAMES = ("HOME", "SSH_AUTH_SOCK", "FLEETKIT_MAX_OUTPUT")
SSH_CONFIG_FILES = ("~/.ssh/config", "/etc/ssh/ssh_config")
# connection/hostkeys.py's defaults (that module loads paramiko: a run never needs it)
USER_KNOWN_HOSTS = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
KNOWN_HOSTS_OPTION = re.compile(
    r"^\s*(?:userknownhostsfile|globalknownhostsfile)(?:\s*=\s*|\s+)(.*)$", re.I
)
CONFIG_FILES = (
    *SSH_CONFIG_FILES,
    "~/.fabric.yaml",
    "~/.fabric.yml",
    "~/.fabric.json",
    "~/.fabric.py",
    "/etc/fabric.yaml",
    "/etc/fabric.yml",
    "/etc/fabric.json",
    "/etc/fabric.py",
)


def file_print(path: str | None, home: str | None = None) -> dict[str, Any] | None:
    """sha256, size and mtime of a file (None when there is no such path or file).

    The digest is remembered per path while the file's stat (device, inode, size,
    mtime and ctime: any write changes ctime) stays the same, so keying a host reads
    no file that did not change since the last key. A file changed in the last
    RACY_S is read every time: two writes within one timestamp tick look alike (as
    git's "racy" index entries)."""
    if path is None:
        return None
    full = str(_expand(path, home))
    try:
        st = os.stat(full)
        stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        known = _DIGESTS.get(full)
        if known is not None and known[0] == stamp:
            digest = known[1]
        else:
            with open(full, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            if time.time_ns() - st.st_ctime_ns > RACY_S * 1e9:
                _DIGESTS[full] = (stamp, digest)
    except OSError as err:
        return {"path": full, "missing": err.errno}
    return {"path": full, "sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


_DIGESTS: dict[str, tuple[tuple[int, ...], str]] = {}
RACY_S = 2.0


def _expand(path: str, home: str | None) -> Path:
    if home and (path == "~" or path.startswith("~/")):
        return Path(home + path[1:])
    return Path(path).expanduser()


def known_hosts_paths(spec: ConnectionSpec, home: str | None) -> list[str]:
    """Every known_hosts file checking spec's host keys may read (a superset, see above)."""
    paths = [spec.known_hosts] if spec.known_hosts else list(USER_KNOWN_HOSTS)
    paths += GLOBAL_KNOWN_HOSTS
    for config in SSH_CONFIG_FILES:
        try:
            text = _expand(config, home).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            match = KNOWN_HOSTS_OPTION.match(line)
            if match:
                names = match.group(1).split("#", 1)[0].replace('"', " ").split()
                paths += [name for name in names if name.lower() != "none"]
    return list(dict.fromkeys(paths))


def client_env(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """The parts of the client's environment a connection is made from."""
    env = os.environ if environ is None else environ
    return {name: env.get(name) for name in ENV_NAMES}


def connection_key(spec: ConnectionSpec, env: Mapping[str, str | None]) -> str:
    """A hex digest naming one connection: equal only when everything above is equal."""
    home = env.get("HOME")
    parts = {
        "spec": asdict(spec),
        "env": dict(env),
        "key_file": file_print(spec.ssh_key, home),
        "known_hosts": [file_print(p, home) for p in known_hosts_paths(spec, home)],
        "config": [file_print(p, home) for p in CONFIG_FILES],
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def context_key(env: Mapping[str, str | None]) -> str:
    """The part shared by every connection made with one Fabric config (and known_hosts
    stores): the environment and the config files. One ConnectionFactory each."""
    home = env.get("HOME")
    parts = {"env": dict(env), "config": [file_print(p, home) for p in CONFIG_FILES]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
