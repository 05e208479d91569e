"""apt_repository: a source line found anywhere APT reads is ok; otherwise written to
sources.list.d/<name>.list; removed from every file holding it; update_cache runs
apt-get update only after a change (intercepted here: no network, no host touched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx
from tests.unit.modules.intercept import InterceptingConnection

from fleetkit.modules.apt_repository import canonical_line, suggest_filename
from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup

pytestmark = pytest.mark.unit

REPO = "deb [arch=amd64 signed-by=/etc/apt/keyrings/x.gpg] http://repo.example.invalid/debian/ bookworm main"  # noqa: E501


class Apt:
    """/etc/apt under tmp_path; apt-get update answered by a rule (and counted)."""

    def __init__(self, tmp: Path, update_rc: int = 0) -> None:
        self.root = tmp / "apt"
        (self.root / "sources.list.d").mkdir(parents=True)
        (self.root / "sources.list").write_text("deb http://deb.debian.org/debian bookworm main\n")
        self.updates = 0
        self.update_rc = update_rc

    def conn(self) -> InterceptingConnection:
        return InterceptingConnection(
            {r"apt-get update": self.update}, paths={"/etc/apt/": f"{self.root}/"}
        )

    def update(self, command: str, stdin: bytes | None) -> tuple[int, str, str]:
        self.updates += 1
        if self.update_rc:
            return self.update_rc, "", "E: Failed to fetch http://repo.example.invalid/"
        return 0, "Reading package lists...", ""


def run(apt: Apt, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.builtin.apt_repository")
    assert mod is not None
    return mod.run(make_ctx("apt_repository", args, apt.conn(), check=check, diff=True))


def test_a_line_already_in_sources_list_is_ok_in_any_spelling(tmp_path: Path) -> None:
    apt = Apt(tmp_path)
    result = run(apt, repo="deb  http://deb.debian.org/debian/   bookworm main")
    assert not result.changed and not result.failed, result.msg
    assert apt.updates == 0


def test_a_missing_line_is_written_to_its_file_once_and_the_cache_updated(tmp_path: Path) -> None:
    apt = Apt(tmp_path)
    first = run(apt, repo=REPO)
    assert first.changed and not first.failed, first.msg
    written = apt.root / "sources.list.d" / "repo_example_invalid_debian.list"
    assert written.read_text() == REPO + "\n"
    assert f"+{REPO}" in first.diff
    assert apt.updates == 1
    reordered = "deb [signed-by=/etc/apt/keyrings/x.gpg  arch=amd64] http://repo.example.invalid/debian bookworm main"  # noqa: E501
    second = run(apt, repo=reordered)
    assert not second.changed and apt.updates == 1


def test_update_cache_false_never_runs_apt_get_update(tmp_path: Path) -> None:
    apt = Apt(tmp_path)
    result = run(apt, repo=REPO, filename="example", update_cache=False)
    assert result.changed and (apt.root / "sources.list.d" / "example.list").exists()
    assert apt.updates == 0


def test_check_mode_predicts_without_writing(tmp_path: Path) -> None:
    apt = Apt(tmp_path)
    result = run(apt, check=True, repo=REPO)
    assert result.changed and list((apt.root / "sources.list.d").iterdir()) == []
    assert apt.updates == 0


def test_an_offline_update_is_a_clear_error_and_the_source_stays(tmp_path: Path) -> None:
    apt = Apt(tmp_path, update_rc=100)
    result = run(apt, repo=REPO, filename="example")
    assert result.failed and "apt-get update failed" in result.msg
    assert "offline" in result.msg and "update_cache: false" in result.msg
    assert (apt.root / "sources.list.d" / "example.list").exists()


def test_absent_removes_the_line_from_every_file_holding_it(tmp_path: Path) -> None:
    apt = Apt(tmp_path)
    other = apt.root / "sources.list.d" / "mixed.list"
    other.write_text(f"# keep me\n{REPO}\ndeb http://other.example.invalid/ stable main\n")
    result = run(apt, repo=REPO, state="absent", update_cache=False)
    assert result.changed
    assert other.read_text() == "# keep me\ndeb http://other.example.invalid/ stable main\n"
    assert not run(apt, repo=REPO, state="absent", update_cache=False).changed


def test_a_sources_file_emptied_by_absent_is_removed(tmp_path: Path) -> None:
    apt = Apt(tmp_path)
    run(apt, repo=REPO, filename="example", update_cache=False)
    result = run(apt, repo=REPO, state="absent", update_cache=False)
    assert result.changed and list((apt.root / "sources.list.d").iterdir()) == []


def test_canonical_lines_ignore_spacing_option_order_and_comments() -> None:
    assert canonical_line("deb [b=2 a=1] http://x/ s main # note") == canonical_line(
        "deb [a=1  b=2] http://x s main"
    )
    assert canonical_line("# deb http://x s main") is None
    assert canonical_line("deb http://x s main") != canonical_line("deb-src http://x s main")


def test_default_file_names_follow_ansible() -> None:
    assert suggest_filename("deb http://dl.google.com/linux/chrome/deb/ stable main") == (
        "dl_google_com_linux_chrome_deb"
    )
    assert suggest_filename(REPO) == "repo_example_invalid_debian"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"repo": "ppa:nginx/stable"}, "PPAs are Ubuntu's"),
        ({"repo": "http://x stable main"}, "not a one-line APT source"),
        ({"repo": "deb http://x"}, "needs a URI and a suite"),
        ({"repo": "deb http://x s main", "filename": "a/b"}, "not a path"),
    ],
)
def test_bad_arguments_are_refused_before_any_host(args: dict[str, Any], fragment: str) -> None:
    mod = lookup("apt_repository")
    assert mod is not None
    errors = prepare(mod, args)[1]
    assert errors and fragment in errors[0]
