"""apt/package and user: query first, act only on what is missing or different."""

from __future__ import annotations

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeConnection, table

pytestmark = pytest.mark.unit

DPKG = "curl install ok installed 7.88.1-10\nless install ok installed 590-2\n"


def run(module: str, conn: FakeConnection, check: bool = False, **args: object) -> ModuleResult:
    mod = lookup(module)
    assert mod is not None
    return mod.run(make_ctx(module, args, conn, check=check))


def test_apt_installed_packages_are_ok() -> None:
    conn = FakeConnection("h1", table({"dpkg-query": (0, DPKG, "")}))
    res = run("apt", conn, name=["curl", "less"])
    assert not res.changed and not res.failed
    assert not any("install" in c and "apt-get" in c for c in conn.commands)


def test_apt_installs_only_the_missing_ones() -> None:
    conn = FakeConnection("h1", table({"dpkg-query": (0, DPKG, "")}))
    res = run("apt", conn, name="curl,jq")
    assert res.changed and "jq" in res.msg
    assert conn.commands[-1].endswith("install jq")


@pytest.mark.parametrize(
    ("given", "option"),
    [
        (None, ""),
        (False, " -o APT::Install-Recommends=no"),
        (True, " -o APT::Install-Recommends=yes"),
    ],
)
def test_apt_install_recommends_as_ansible_passes_it(given: bool | None, option: str) -> None:
    conn = FakeConnection("h1", table({"dpkg-query": (0, DPKG, "")}))
    args = {} if given is None else {"install_recommends": given}
    run("apt", conn, name=["jq"], **args)
    assert f"--force-confold{option} install jq" in conn.commands[-1]


def test_apt_check_mode_names_what_it_would_install() -> None:
    conn = FakeConnection("h1", table({"dpkg-query": (0, DPKG, "")}))
    res = run("apt", conn, check=True, name=["jq", "curl"])
    assert res.changed and res.msg == "would install jq"
    assert len(conn.commands) == 1


def test_apt_absent_removes_installed_ones() -> None:
    conn = FakeConnection("h1", table({"dpkg-query": (0, DPKG, "")}))
    res = run("apt", conn, name=["less", "jq"], state="absent")
    assert res.changed and conn.commands[-1].endswith("remove less")


def test_apt_failure_is_reported_with_stderr() -> None:
    conn = FakeConnection(
        "h1",
        table({"dpkg-query": (0, "", ""), "apt-get": (100, "", "E: Unable to locate package jq")}),
    )
    res = run("apt", conn, name=["jq"])
    assert res.failed and "Unable to locate package jq" in res.msg


def test_package_uses_apt_on_debian() -> None:
    conn = FakeConnection(
        "h1", table({"for m in": (0, "apt-get\n", ""), "dpkg-query": (0, DPKG, "")})
    )
    assert not run("package", conn, name=["curl"]).changed
