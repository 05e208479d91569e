"""PNG pictures of dashboards, drawn from synthetic series (no Prometheus)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from fleetkit.cli import main
from fleetkit.dashboards.catalog import catalog
from fleetkit.dashboards.load import load_dashboard
from fleetkit.dashboards.model import TargetResult
from fleetkit.dashboards.query import Prometheus, TimeRange
from fleetkit.dashboards.render import figure_size, render_png
from fleetkit.errors import PrometheusError
from fleetkit.testing.fake_dashboard import fake_results

pytestmark = pytest.mark.unit

DASHBOARDS = Path(__file__).resolve().parents[3] / "grafana" / "dashboards"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize("name", sorted(catalog()))
def test_each_dashboard_renders_to_a_png_of_its_grid(name: str, tmp_path: Path) -> None:
    board = load_dashboard(DASHBOARDS / name)
    window = TimeRange(end=1_700_000_000.0, seconds=900)
    out = render_png(board, fake_results(board, window), tmp_path / "d.png", subtitle="test")
    assert png_size(out) == figure_size(board)
    assert figure_size(board)[0] == 1928 and figure_size(board)[1] > 900
    assert 50_000 < out.stat().st_size < 3_000_000  # drawn panels, not an empty canvas


def test_empty_and_failed_panels_still_render(tmp_path: Path) -> None:
    board = load_dashboard(DASHBOARDS / "runs-health.json")
    first = next(p for p in board.panels if p.targets)
    failed = {first.id: (TargetResult(first.targets[0], error="bad_data: parse error"),)}
    out = render_png(board, failed, tmp_path / "empty.png")
    assert png_size(out) == figure_size(board)


def test_render_command_writes_the_png_and_fails_on_a_query_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def answer(self: Prometheus, path: str, params: dict[str, str]) -> object:
        if "/label/" in path:
            return ["lab1"]
        if "cycle" in params["query"]:
            raise PrometheusError("bad_data: boom")
        return {"resultType": "vector", "result": [{"metric": {"host": "lab1"}, "value": [1, "2"]}]}

    monkeypatch.setattr(Prometheus, "_get", answer)
    out = tmp_path / "runs.png"
    args = ["dashboard", "render", str(DASHBOARDS / "runs-health.json")]
    code = main([*args, "--prometheus", "http://127.0.0.1:9", "-o", str(out), "--range", "1h"])
    captured = capsys.readouterr()
    assert code == 1, captured  # two exporter panels' queries failed: drawn, but exit 1
    assert out.exists() and png_size(out)[0] == 1928
    assert f"{out}  (10 panels, 2 without data, 2 errors)" in captured.out
    assert "'Exporter cycle duration': bad_data: boom" in captured.err


def test_render_command_rejects_a_bad_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["dashboard", "render", str(DASHBOARDS / "runs-health.json"), "--prometheus", "x"]
    assert main([*args, "-o", str(tmp_path / "x.png"), "--range", "soon"]) == 2
    assert "not a duration: 'soon'" in capsys.readouterr().err


def test_fleetkit_help_does_not_import_matplotlib_or_rich_live() -> None:
    code = (
        "import sys\n"
        "from fleetkit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
