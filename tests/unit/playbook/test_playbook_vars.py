"""group_vars/ and host_vars/ beside the playbook in a run (issue 17; precedence rows 4, 6, 9).

The precedence of each row is tested in tests/unit/inventory/test_ansible_precedence.py;
here: which folder a play reads (its own playbook file's, also for import_playbook),
hostvars, connection settings, the pre-run check and refresh_inventory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.playbook.helpers import inventory, run, write

from fleetkit.errors import InventoryError, TemplateError
from fleetkit.playbook.session import RunRequest, prepare

pytestmark = pytest.mark.unit

SHOW = """
- hosts: all
  gather_facts: false
  tasks:
    - name: show
      debug:
        msg: "{{ v | default('unset') }} {{ hostvars['web2'].v | default('unset') }}"
"""


def msgs(out: object, task: str = "show") -> dict[str, str]:
    return {r["host"]: r["msg"] for r in out.results(task)}  # type: ignore[attr-defined]


def test_a_play_sees_the_group_and_host_vars_beside_its_playbook(tmp_path: Path) -> None:
    write(tmp_path / "group_vars/all.yml", "v: playbook-all\n")
    write(tmp_path / "host_vars/web2.yml", "v: playbook-web2\n")
    out = run(tmp_path, SHOW)
    assert msgs(out) == {
        "web1": "playbook-all playbook-web2",
        "web2": "playbook-web2 playbook-web2",
    }


def test_without_the_folders_a_play_sees_the_inventory_only(tmp_path: Path) -> None:
    inv = inventory(tmp_path, all_vars={"v": "inventory"})
    write(tmp_path / "inventory/group_vars/all.yml", "w: 1\n")
    out = run(tmp_path, SHOW, inv=inv)
    assert msgs(out) == {"web1": "inventory inventory", "web2": "inventory inventory"}


def test_an_imported_playbook_in_another_folder_reads_that_folder_only(tmp_path: Path) -> None:
    """As ansible-playbook 2.19: a play's folder is its own playbook file's."""
    write(tmp_path / "group_vars/all.yml", "v: top\n")
    write(tmp_path / "sub/group_vars/all.yml", "w: sub\n")
    write(
        tmp_path / "sub/other.yml",
        """
        - hosts: all
          gather_facts: false
          tasks:
            - name: sub
              debug:
                msg: "{{ v | default('unset') }} {{ w | default('unset') }}"
        """,
    )
    out = run(tmp_path, SHOW + "- import_playbook: sub/other.yml\n" + SHOW.replace("show", "back"))
    assert msgs(out)["web1"] == "top top"
    assert msgs(out, "sub")["web1"] == "unset sub"
    assert msgs(out, "back")["web1"] == "top top"


def test_connection_settings_come_from_the_playbook_folders_too(tmp_path: Path) -> None:
    write(tmp_path / "group_vars/all.yml", "ansible_user: deploy\nansible_port: 2200\n")
    write(tmp_path / "host_vars/web2.yml", "ansible_host: 192.0.2.7\n")
    book = write(tmp_path / "site.yml", SHOW)
    prepared = prepare(RunRequest(playbook=book, inventory=inventory(tmp_path), cwd=tmp_path))
    web1, web2 = prepared.specs["web1"], prepared.specs["web2"]
    assert (web1.user, web1.port, web1.address) == ("deploy", 2200, "web1")
    assert (web2.user, web2.address) == ("deploy", "192.0.2.7")


def test_the_pre_run_check_knows_names_the_playbook_folders_define(tmp_path: Path) -> None:
    book = write(
        tmp_path / "site.yml",
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg={{ only_in_files }}\n",
    )
    request = RunRequest(playbook=book, inventory=inventory(tmp_path), cwd=tmp_path)
    with pytest.raises(TemplateError, match="only_in_files"):
        prepare(request)
    write(tmp_path / "group_vars/all.yml", "only_in_files: here\n")
    assert prepare(request).plays


def test_a_bad_file_beside_the_playbook_is_bad_input_before_any_host(tmp_path: Path) -> None:
    write(tmp_path / "host_vars/web1.yml", "[not, a, mapping]\n")
    book = write(tmp_path / "site.yml", SHOW)
    with pytest.raises(InventoryError, match="mapping of variables"):
        prepare(RunRequest(playbook=book, inventory=inventory(tmp_path), cwd=tmp_path))


def test_refresh_inventory_reads_the_playbook_folders_for_the_new_hosts(tmp_path: Path) -> None:
    from fleetkit.playbook.session import _refresh

    inv = inventory(tmp_path, hosts=("web1",))
    write(tmp_path / "host_vars/web2.yml", "v: playbook-web2\nansible_user: deploy\n")
    book = write(tmp_path / "site.yml", SHOW)
    prepared = prepare(RunRequest(playbook=book, inventory=inv, cwd=tmp_path))
    play = prepared.playbook.plays[0]
    assert "web2" not in prepared.play_inventory(prepared.inventory, play).hosts
    inventory(tmp_path, hosts=("web1", "web2"))  # what meta: refresh_inventory finds
    refreshed, selected = _refresh(prepared, [play])
    assert selected == [("web1", "web2")]
    assert prepared.play_inventory(refreshed, play).hosts["web2"].vars["v"] == "playbook-web2"
    assert prepared.specs["web2"].user == "deploy"
