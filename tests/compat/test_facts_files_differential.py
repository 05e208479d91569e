"""ansible-core's own distribution and lsb collectors against fleetkit's, on canned files.

Each fixture of tests/unit/executor/distro_fixtures.py (Debian, Ubuntu, RHEL,
CentOS, Rocky, Alma, Fedora, Oracle, Amazon, Alpine, Arch, openSUSE, SLES, Mint)
is written under a temporary root; ansible-core 2.19's DistributionFactCollector
and LSBFactCollector read it there (their file reads and the `distro` library
pointed at the root, `lsb_release -a` answered with the fixture's output), and
fleetkit's collectors read the same files from a fact-script dump. Every fact
must be the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.executor.distro_fixtures import FIXTURES, Distro

from fleetkit.executor.facts import parse_dump, setup_facts
from fleetkit.testing.fake_facts import fact_output, python_probe

pytestmark = pytest.mark.compat

ansible_distribution = pytest.importorskip("ansible.module_utils.facts.system.distribution")
ansible_lsb = pytest.importorskip("ansible.module_utils.facts.system.lsb")
facts_utils = pytest.importorskip("ansible.module_utils.facts.utils")


class _Module:
    """The little of AnsibleModule the two collectors call."""

    def __init__(self, lsb_release: str | None) -> None:
        self.lsb_release = lsb_release

    def get_bin_path(self, name: str, *args: Any, **kwargs: Any) -> str | None:
        return "/usr/bin/lsb_release" if name == "lsb_release" and self.lsb_release else None

    def run_command(self, cmd: Any, **kwargs: Any) -> tuple[int, str, str]:
        if self.lsb_release is not None and list(cmd)[:1] == ["/usr/bin/lsb_release"]:
            return 0, self.lsb_release, ""
        return 127, "", "not found"

    def debug(self, msg: str) -> None:
        return None


@pytest.fixture
def rooted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """ansible-core's distribution code reading files under tmp_path instead of /."""

    def under(path: str) -> str:
        return str(tmp_path / path.lstrip("/"))

    real_content = facts_utils.get_file_content
    real_lines = facts_utils.get_file_lines
    real_exists = ansible_distribution._file_exists
    monkeypatch.setattr(
        ansible_distribution,
        "_file_exists",
        lambda p, allow_empty=False: real_exists(under(p), allow_empty),
    )
    monkeypatch.setattr(
        ansible_distribution,
        "get_file_content",
        lambda p, default=None, strip=True: real_content(under(p), default, strip),
    )
    monkeypatch.setattr(
        ansible_distribution,
        "get_file_lines",
        lambda p, strip=True, line_sep=None: real_lines(under(p), strip, line_sep),
    )
    monkeypatch.setattr(
        ansible_distribution.DistributionFiles,
        "_get_file_content",
        lambda self, p: real_content(under(p)),
    )
    real_lsb_file = ansible_lsb.LSBFactCollector._lsb_release_file
    monkeypatch.setattr(
        ansible_lsb.LSBFactCollector,
        "_lsb_release_file",
        lambda self, p: real_lsb_file(self, under(p)),
    )
    monkeypatch.setattr(
        ansible_lsb,
        "get_file_lines",
        lambda p, strip=True, line_sep=None: real_lines(p, strip, line_sep),
    )
    yield tmp_path


def _ansible(root: Path, fixture: Distro, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import sys

    distro_lib = sys.modules[sys.modules["ansible.module_utils.distro"].id.__module__]
    impl = distro_lib.LinuxDistribution(
        root_dir=str(root), include_lsb=False, include_uname=False, include_oslevel=False
    )
    lsb = (fixture.lsb_release or "").splitlines() if fixture.lsb_release else []
    impl.__dict__["_lsb_release_info"] = impl._parse_lsb_release_content(lsb)
    impl.__dict__["_uname_info"] = {}
    monkeypatch.setattr(distro_lib, "_distro", impl)
    module = _Module(fixture.lsb_release)
    facts = ansible_distribution.DistributionFactCollector().collect(module=module)
    facts.update(ansible_lsb.LSBFactCollector().collect(module=module))
    return dict(facts)


def _fleetkit(fixture: Distro) -> dict[str, Any]:
    outputs = {"lsb_release": fixture.lsb_release} if fixture.lsb_release is not None else {}
    values = {"bin:lsb_release": "/usr/bin/lsb_release"} if fixture.lsb_release else {}
    dump = parse_dump(
        fact_output(files=fixture.files, outputs=outputs, values=values, python=python_probe())
    )
    facts = setup_facts(dump, gather_subset=["!all", "!min", "distribution", "lsb"])
    return {k[len("ansible_") :]: v for k, v in facts.items() if k.startswith("ansible_")}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_distribution_and_lsb_facts_are_ansibles_on_the_same_files(
    name: str, rooted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = FIXTURES[name]
    for path, content in fixture.files.items():
        target = rooted / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    expected = _ansible(rooted, fixture, monkeypatch)
    got = _fleetkit(fixture)
    assert got == expected
    for key, value in fixture.expect.items():
        assert got[key] == value, key


SUBSETS = (
    ["all"], ["!all"], ["!all", "!min"], ["min"], ["network"], ["!hardware"], ["all", "!min"],
    ["hardware", "!network"], ["interfaces"], ["!all", "virtual"], ["distribution"],
    ["!min", "user"], ["facter", "!all"], ["all", "!network", "!virtual"], ["!nosuch"],
)  # fmt: skip


@pytest.mark.parametrize("subset", SUBSETS, ids=[",".join(s) for s in SUBSETS])
def test_gather_subset_selects_the_collectors_ansible_selects(subset: list[str]) -> None:
    collector = pytest.importorskip("ansible.module_utils.facts.collector")
    defaults = pytest.importorskip("ansible.module_utils.facts.default_collectors")
    from fleetkit.executor.facts.collectors import MINIMAL, selected

    theirs = collector.collector_classes_from_gather_subset(
        all_collector_classes=defaults.collectors,
        minimal_gather_subset=MINIMAL,
        gather_subset=subset,
        platform_info={"system": "Linux"},
    )
    assert {c.name for c in selected(subset)} == {c.name for c in theirs}
