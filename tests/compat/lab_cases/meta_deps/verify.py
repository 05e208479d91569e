"""testinfra checks for the meta_deps case."""

from typing import Any


def test_dependency_ran_per_params(host: Any) -> None:
    d = "/srv/fkcompat/meta_deps"
    assert host.file(f"{d}/common-app.txt").content_string == "common app from common\n"
    assert host.file(f"{d}/common-plain.txt").exists
    assert host.file(f"{d}/app.conf").content_string == "version=1.4\nrole=app\n"


def test_duplicates_allowed(host: Any) -> None:
    assert host.file("/srv/fkcompat/meta_deps/stamp-first").exists
    assert host.file("/srv/fkcompat/meta_deps/stamp-second").exists
