"""testinfra checks for the include_loop case."""

from typing import Any


def test_vhosts(host: Any) -> None:
    for name, port in (("shop", 8001), ("blog", 8002), ("wiki", 8003)):
        conf = host.file(f"/srv/fkcompat/include_loop/{name}/vhost.conf")
        assert conf.content_string == f"name {name}\nport {port}\ntag team-web\n"
    ports = host.file("/srv/fkcompat/include_loop/ports").content_string
    assert ports == "shop=8001\nblog=8002\nwiki=8003\n"


def test_index(host: Any) -> None:
    assert host.file("/srv/fkcompat/include_loop/index").content_string == "shop\nblog\nwiki\n"
