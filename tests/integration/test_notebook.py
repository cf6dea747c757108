"""examples/quickstart.ipynb, executed headless (nbclient, an IPython kernel on this Python) and
its outputs checked: the load's progress and report as HTML, the checks, a DataFrame with
datetime64 dates, a chart as image/svg+xml (issue 16). The notebook is kept without outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CHECKOUT

NOTEBOOK = CHECKOUT / "examples" / "quickstart.ipynb"
WHY = "in the test extra (pip install -e '.[test]'); runs examples/quickstart.ipynb"
nbformat = pytest.importorskip("nbformat", reason=f"nbformat is {WHY}")
nbclient = pytest.importorskip("nbclient", reason=f"nbclient is {WHY}")
pytest.importorskip("ipykernel", reason=f"ipykernel is {WHY}")

pytestmark = pytest.mark.slow
KERNEL = "sparkify-dw-test"


def test_the_notebook_is_kept_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], cell.source
            assert cell.execution_count is None, cell.source


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec running this interpreter (the venv's, with ipykernel) on this checkout,
    in folders of the test's own (no kernel, profile or connection file left in $HOME)."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "sparkify-dw tests",
                "language": "python",
                "env": {"PYTHONPATH": str(CHECKOUT), "IPYTHONDIR": str(tmp_path / "ipython")},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's warning otherwise
    monkeypatch.delenv("SPARKIFY_DB_URL", raising=False)
    return KERNEL


def _outputs(notebook: Any, tag: str) -> list[Any]:
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors
    return list(cell.outputs)


def _data(outputs: list[Any], mime: str, kind: str = "execute_result") -> str:
    found = [o.data[mime] for o in outputs if o.output_type == kind and mime in o.data]
    assert found, (mime, kind, outputs)
    return str(found[-1])


def test_the_quickstart_runs_and_shows_its_results(kernel: str, tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()

    report = _outputs(notebook, "report")
    progress = _data(report, "text/html", kind="display_data")
    assert "<progress" in progress
    assert "staging_songs" in progress
    assert "100%" in progress  # the display was updated in place to its end
    html = _data(report, "text/html")
    assert "Load report" in html
    for table in ("songplays", "users", "songs", "artists", "time", "staging_events"):
        assert f"<td>{table}</td>" in html
    assert "15 checks: 15 passed, 0 failed, 0 warning(s)" in html
    text = _data(report, "text/plain")
    assert text.startswith("<LoadReport duckdb:///")
    assert len(text) < 2_000

    printed = "".join(o.text for o in _outputs(notebook, "repr") if o.output_type == "stream")
    assert "COPY staging_songs: 150 rows from 150 file(s), 0 rejected" in printed

    checks = _data(_outputs(notebook, "checks"), "text/html")
    assert "star_tables_not_empty" in checks
    assert "passed" in checks

    songs = _data(_outputs(notebook, "top-songs"), "text/html")
    assert "<b>top-songs (limit=5)</b>: 5 row(s)" in songs

    frame = _outputs(notebook, "frame")
    assert "<table" in _data(frame, "text/html", kind="display_data")  # the DataFrame's head
    dtypes = _data(frame, "text/plain")
    assert "day" in dtypes
    assert "datetime64" in dtypes.split("day", 1)[1].splitlines()[0], dtypes

    svg = _data(_outputs(notebook, "chart"), "image/svg+xml")
    assert svg.startswith("<svg")
    assert "Daily active users" in svg
    assert "<Chart 'Daily active users'" in _data(_outputs(notebook, "chart"), "text/plain")
