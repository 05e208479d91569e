"""testinfra checks for the config case."""

from typing import Any


def test_edited(host: Any) -> None:
    ini = host.file("/srv/fkcompat/config/app.ini")
    assert ini.mode == 0o640
    text = ini.content_string
    assert "port=8443\n" in text and "port=80\n" not in text
    assert "[main]\nworkers=3\n" in text
    assert "legacy" not in text
    assert "debug=true" not in text and text.count("debug=false") == 2
    assert (
        "# BEGIN FKCOMPAT LIMITS\n[limits]\nmax_conn=100\ntimeout=30\n# END FKCOMPAT LIMITS" in text
    )


def test_handlers_once(host: Any) -> None:
    assert host.file("/srv/fkcompat/config/reloads").content_string == "reload\n"
