"""template's Jinja options and the variables Ansible gives a template file.

Run for real on the local connection into tmp_path. Differential cases 127 and 128
compare the same with ansible-playbook 2.19.
"""

from __future__ import annotations

import io
import os
import pwd
import sys
import time
from pathlib import Path

import pytest
from tests.unit.playbook.helpers import write

from fleetkit.config.defaults import ConfigDefaults
from fleetkit.errors import FleetkitError, TemplateError
from fleetkit.modules.template_vars import managed_template, syntax_of
from fleetkit.playbook.session import RunRequest, execute, finish, prepare
from fleetkit.report.jsonl import JsonLinesReporter
from fleetkit.results import RunResult

pytestmark = pytest.mark.unit


def run(tmp: Path, tasks: str, defaults: ConfigDefaults | None = None) -> RunResult:
    book = write(
        tmp / "site.yml",
        "- hosts: localhost\n  gather_facts: false\n  vars: {items: [1, 2, 3]}\n"
        f"  tasks:\n{tasks}",
    )
    inv = write(
        tmp / "hosts",
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
    )
    request = RunRequest(
        playbook=book, inventory=inv, cwd=tmp, extra_vars=(f"out={tmp}",), **_defaults(defaults)
    )
    prepared = prepare(request)
    return finish(prepared, execute(prepared, JsonLinesReporter(io.StringIO())))


def _defaults(defaults: ConfigDefaults | None) -> dict[str, ConfigDefaults]:
    return {"defaults": defaults} if defaults is not None else {}


STRIP = (
    "start\n{% for x in items %}\n    {% if x > 1 %}\nv{{ x }}\n    {% endif %}\n"
    "{% endfor %}\nend\n"
)


def test_lstrip_blocks_and_trim_blocks(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "s.j2", STRIP)
    result = run(
        tmp_path,
        "    - template: {src: s.j2, dest: '{{ out }}/strip', lstrip_blocks: true}\n"
        "    - template: {src: s.j2, dest: '{{ out }}/plain'}\n"
        "    - template: {src: s.j2, dest: '{{ out }}/untrimmed', trim_blocks: false}\n",
    )
    assert result.exit_code() == 0
    assert (tmp_path / "strip").read_text() == "start\nv2\nv3\nend\n"
    assert (tmp_path / "plain").read_text() == "start\n        v2\n        v3\n    end\n"
    untrimmed = "start\n\n    \n\n    \nv2\n    \n\n    \nv3\n    \n\nend\n"
    assert (tmp_path / "untrimmed").read_text() == untrimmed


def test_delimiters_newlines_and_encoding(tmp_path: Path) -> None:
    write(
        tmp_path / "templates" / "d.j2", "[# c #][% for x in items %][[ x ]]{{ k }}[% endfor %]\n"
    )
    write(tmp_path / "templates" / "n.j2", "a\nb é\n")
    result = run(
        tmp_path,
        "    - template:\n"
        "        src: d.j2\n        dest: '{{ out }}/d'\n"
        "        variable_start_string: '[['\n        variable_end_string: ']]'\n"
        "        block_start_string: '[%'\n        block_end_string: '%]'\n"
        "        comment_start_string: '[#'\n        comment_end_string: '#]'\n"
        "    - template: {src: n.j2, dest: '{{ out }}/crlf', newline_sequence: '\\r\\n'}\n"
        "    - template: {src: n.j2, dest: '{{ out }}/latin1', output_encoding: latin-1}\n",
    )
    assert result.exit_code() == 0
    assert (tmp_path / "d").read_text() == "1{{ k }}2{{ k }}3{{ k }}"  # trim_blocks
    assert (tmp_path / "crlf").read_bytes() == "a\r\nb é\r\n".encode()
    assert (tmp_path / "latin1").read_bytes() == b"a\nb \xe9\n"


def test_template_vars_and_ansible_managed(tmp_path: Path) -> None:
    write(
        tmp_path / "templates" / "v.j2",
        "{{ template_path }} {{ template_destpath | basename }} {{ template_fullpath }}"
        " {{ template_uid }} {{ template_host }} {{ template_mtime.year > 2000 }}"
        "\n# {{ ansible_managed }}\n",
    )
    write(tmp_path / "templates" / "own.j2", "# {{ ansible_managed }}\n")
    result = run(
        tmp_path,
        "    - template: {src: v.j2, dest: '{{ out }}/v'}\n"
        "    - template: {src: own.j2, dest: '{{ out }}/own'}\n"
        "      vars: {ansible_managed: mine}\n",
    )
    assert result.exit_code() == 0
    full = tmp_path / "templates" / "v.j2"
    owner = pwd.getpwuid(full.stat().st_uid).pw_name
    assert (tmp_path / "v").read_text() == (
        f"v.j2 v {full} {owner} {os.uname()[1]} True\n# Ansible managed\n"
    )
    assert (tmp_path / "own").read_text() == "# mine\n"


def test_ansible_cfg_ansible_managed_with_its_placeholders(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "m.j2", "# {{ ansible_managed }}\n")
    os.utime(tmp_path / "templates" / "m.j2", (0, 86400 * 365 * 30))
    defaults = ConfigDefaults(ansible_managed="{file} by {uid} %Y")
    result = run(tmp_path, "    - template: {src: m.j2, dest: '{{ out }}/m'}\n", defaults)
    assert result.exit_code() == 0
    year = time.localtime(86400 * 365 * 30).tm_year
    assert (tmp_path / "m").read_text().startswith("# m.j2 by ")
    assert (tmp_path / "m").read_text().endswith(f" {year}\n")


def test_the_pre_run_check_reads_a_template_with_its_own_delimiters(tmp_path: Path) -> None:
    # '{{ not_a_variable }}' is text under [[ ]] delimiters: no undefined-variable error
    write(tmp_path / "templates" / "d.j2", "{{ not_a_variable }} [[ items ]]\n")
    result = run(
        tmp_path,
        "    - template:\n        src: d.j2\n        dest: '{{ out }}/d'\n"
        "        variable_start_string: '[['\n        variable_end_string: ']]'\n",
    )
    assert result.exit_code() == 0
    assert (tmp_path / "d").read_text() == "{{ not_a_variable }} [1, 2, 3]\n"
    write(tmp_path / "templates" / "e.j2", "[[ nowhere ]]\n")
    with pytest.raises(FleetkitError) as err:
        run(
            tmp_path,
            "    - template:\n        src: e.j2\n        dest: '{{ out }}/e'\n"
            "        variable_start_string: '[['\n        variable_end_string: ']]'\n",
        )
    assert "undefined variable 'nowhere'" in err.value.message and err.value.exit_code == 2


def test_a_bad_newline_sequence_or_encoding_is_refused_before_the_run(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "n.j2", "a\n")
    for args, words in (
        ("newline_sequence: nl", "newline_sequence needs to be one of"),
        ("output_encoding: nosuch", "unknown encoding 'nosuch'"),
    ):
        with pytest.raises(FleetkitError) as err:
            run(tmp_path, f"    - template: {{src: n.j2, dest: '{{{{ out }}}}/n', {args}}}\n")
        assert words in err.value.message and err.value.exit_code == 2
    assert not (tmp_path / "n").exists()


def test_syntax_of_takes_ansibles_escaped_newlines_and_leaves_defaults_out() -> None:
    assert syntax_of({"newline_sequence": "\\r\\n", "src": "x"}) == {"newline_sequence": "\r\n"}
    assert syntax_of({"lstrip_blocks": True, "trim_blocks": None}) == {"lstrip_blocks": True}
    with pytest.raises(TemplateError):
        syntax_of({"newline_sequence": "\\t"})


def test_managed_template_makes_the_placeholders_ansibles_expressions() -> None:
    assert managed_template("{host} {uid} {file}", 0) == (
        "{{ template_host }} {{ template_uid }} {{ template_file }}".replace(
            "template_file", "template_path"
        )
    )
    with pytest.raises(TemplateError) as err:
        managed_template("{nosuch}", 0)
    assert "{host}, {uid} and {file}" in err.value.message
