"""Offline images for the lab, built from the static busybox with `docker import`.

web:v1 and web:v2 serve HTTP on port 80 answering with their version (busybox
httpd); web:bad exits at once. They are pushed to the lab registry, fully
qualified, so nothing ever resolves to a public registry.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from fleetkit.errors import LabError
from fleetkit.lab.checks import Tools
from fleetkit.lab.docker import client_env
from fleetkit.lab.layout import LabPaths, registry_address

REPOSITORY = "fleetkit/web"
HTTP_PORT = 80


@dataclass(frozen=True)
class LabImage:
    """One seeded image: its tag, what its container runs and the page it serves."""

    tag: str
    cmd: tuple[str, ...]
    page: str | None

    @property
    def ref(self) -> str:
        """The fully qualified reference in the lab registry."""
        return f"{registry_address()}/{REPOSITORY}:{self.tag}"


def lab_images() -> tuple[LabImage, ...]:
    """v1 and v2 web servers and a bad image whose container exits at once."""
    httpd = ("/bin/busybox", "httpd", "-f", "-p", str(HTTP_PORT), "-h", "/www")
    bad = ("/bin/sh", "-c", "echo 'fleetkit-web bad: exiting at once' >&2; exit 1")
    return (
        LabImage("v1", httpd, "fleetkit-web v1\n"),
        LabImage("v2", httpd, "fleetkit-web v2\n"),
        LabImage("bad", bad, None),
    )


def inventory_vars() -> dict[str, str]:
    """The inventory variables naming the registry and seeded images (`image`: v1)."""
    refs = {img.tag: img.ref for img in lab_images()}
    return {
        "lab_registry": registry_address(),
        "lab_image_v1": refs["v1"],
        "lab_image_v2": refs["v2"],
        "lab_image_bad": refs["bad"],
        "image": refs["v1"],
    }


def rootfs_tar(busybox: Path, image: LabImage) -> bytes:
    """A tiny root filesystem: static busybox as /bin/busybox and /bin/sh, /www, /tmp."""
    buf = io.BytesIO()
    now = time.time()

    def add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, now
        tar.addfile(info)

    def add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), mode, now
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc", "www"):
            add_dir(tar, d)
        add_dir(tar, "tmp", 0o1777)
        add_file(tar, "bin/busybox", busybox.read_bytes(), 0o755)
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname, link.mode, link.mtime = tarfile.SYMTYPE, "busybox", 0o777, now
        tar.addfile(link)
        add_file(tar, "etc/passwd", b"root:x:0:0:root:/:/bin/sh\n")
        add_file(tar, "etc/group", b"root:x:0:\n")
        if image.page is not None:
            add_file(tar, "www/index.html", image.page.encode())
            add_file(tar, "www/version", f"{image.tag}\n".encode())
    return buf.getvalue()


def _docker(tools: Tools, env: dict[str, str], *args: str, stdin: bytes | None = None) -> str:
    assert tools.docker is not None
    proc = subprocess.run(
        [tools.docker, *args], input=stdin, capture_output=True, env=env, timeout=120, check=False
    )
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).decode(errors="replace").strip()
        raise LabError(f"docker {args[0]} failed: {msg}")
    return proc.stdout.decode(errors="replace")


def seed_images(tools: Tools, paths: LabPaths, dockerd_pid: int) -> tuple[str, ...]:
    """Import every lab image on one host's dockerd and push it to the lab registry."""
    assert tools.busybox is not None
    env = client_env(paths, dockerd_pid)
    refs = []
    for image in lab_images():
        changes = [f"CMD {json.dumps(list(image.cmd))}", f"ENV FLEETKIT_WEB_VERSION={image.tag}"]
        if image.page is not None:
            changes.append(f"EXPOSE {HTTP_PORT}")
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        _docker(tools, env, *args, "-", image.ref, stdin=rootfs_tar(Path(tools.busybox), image))
        _docker(tools, env, "push", "--quiet", image.ref)
        refs.append(image.ref)
    return tuple(refs)
