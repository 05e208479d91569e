"""`validate` of copy, template, lineinfile, blockinfile and replace, as Ansible runs it:
on the new content in a temporary file (with its mode), `%s` its path, the file left as it
was when the command fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.modules.helpers import RunModule

from fleetkit.modules.remote import validate_command

pytestmark = pytest.mark.unit

ACCEPT_OK = "grep -q ok %s"


def test_copy_writes_what_the_validator_accepts(run_local: RunModule, tmp_path: Path) -> None:
    dest = tmp_path / "conf"
    res = run_local("copy", {"content": "ok\n", "dest": str(dest), "validate": ACCEPT_OK})
    assert res.changed and not res.failed
    assert dest.read_text() == "ok\n"
    again = run_local("copy", {"content": "ok\n", "dest": str(dest), "validate": ACCEPT_OK})
    assert not again.changed


def test_copy_keeps_the_file_when_the_validator_refuses(
    run_local: RunModule, tmp_path: Path
) -> None:
    dest = tmp_path / "conf"
    dest.write_text("ok before\n")
    validate = "sh -c 'echo refused >&2; exit 3' _ %s"
    res = run_local("copy", {"content": "bad\n", "dest": str(dest), "validate": validate})
    assert res.failed and res.msg == "failed to validate"
    assert res.registered is not None
    assert res.registered["exit_status"] == 3
    assert res.registered["stderr"] == "refused\n"
    assert dest.read_text() == "ok before\n"
    assert [p.name for p in tmp_path.iterdir()] == ["conf"]  # no temporary file left


def test_the_validator_sees_the_new_mode_and_a_percent_escape(
    run_local: RunModule, tmp_path: Path
) -> None:
    dest = tmp_path / "with space"
    (tmp_path / "t.j2").write_text("x={{ 1 + 1 }}\n")
    validate = 'sh -c \'test "$(stat -c %%a "$1")" = 440\' _ %s'
    args = {"src": "t.j2", "dest": str(dest), "mode": "0440", "validate": validate}
    res = run_local("template", args, templates=(tmp_path,))
    assert res.changed and not res.failed, res
    refused = run_local("template", {**args, "mode": "0444", "dest": str(tmp_path / "other")})
    assert refused.failed and not (tmp_path / "other").exists()
    assert dest.read_text() == "x=2\n"


def test_validate_without_percent_s_fails_as_in_ansible(
    run_local: RunModule, tmp_path: Path
) -> None:
    res = run_local("copy", {"content": "x", "dest": str(tmp_path / "f"), "validate": "true"})
    assert res.failed and "validate must contain %s: true" in res.msg
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("lineinfile", {"line": "bad=1"}),
        ("blockinfile", {"block": "bad=1"}),
        ("replace", {"regexp": "ok", "replace": "bad"}),
    ],
)
def test_text_edits_are_validated_before_they_replace_the_file(
    run_local: RunModule, tmp_path: Path, module: str, args: dict[str, str]
) -> None:
    path = tmp_path / "conf"
    path.write_text("ok=1\n")
    refuse_bad = "sh -c '! grep -q bad \"$1\" || { echo has bad >&2; exit 1; }' _ %s"
    res = run_local(module, {"path": str(path), **args, "validate": refuse_bad})
    assert res.failed and res.msg == "failed to validate: rc:1 error:has bad\n"
    assert path.read_text() == "ok=1\n"
    fine = run_local(module, {"path": str(path), **args, "validate": "test -s %s"})
    assert fine.changed and not fine.failed
    assert "bad" in path.read_text()


def test_the_command_is_split_as_run_command_splits_it() -> None:
    # words split with shlex and quoted one by one; %s may sit inside a word
    assert validate_command("visudo -cf %s") == "'visudo' '-cf' ''\"$tmp\"''"
    assert validate_command("nginx -t -c'%s'") == "'nginx' '-t' '-c'\"$tmp\"''"
    assert validate_command("echo '$(id)' %s").startswith("'echo' '$(id)' ")
    with pytest.raises(ValueError, match="validate must contain"):
        validate_command("visudo -c")
