"""Every analyst notebook in ``notebooks/`` runs top to bottom without an error.

The notebooks are executed with nbclient in a fresh ``python3`` kernel (the
interpreter running the tests, via ipykernel), in the notebooks folder as
Jupyter would. A cell that raises fails the test with the cell's traceback.
Fast checks guard how notebooks are committed: outputs cleared, the
``python3`` kernel, only public ``wfm`` names imported.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def _code(cell) -> str:
    """Cell source without IPython magics (``%matplotlib inline``), parseable as Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in cell.source.splitlines())


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_forecasting.ipynb", "02_staffing.ipynb",
            "03_scheduling_and_coverage.ipynb"} <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert code and markdown
    # a guided analysis: explanation between the code, not a script
    assert len(markdown) >= len(code) // 2
    for i, cell in enumerate(code):
        assert not cell.get("outputs"), f"{path.name}: code cell {i} has outputs; clear them"
        assert cell.get("execution_count") is None, f"{path.name}: code cell {i} was executed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_uses_public_api_only(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(_code(cell))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wfm"):
                assert not any(part.startswith("_") for part in node.module.split(".")), \
                    f"{path.name}: imports private module {node.module}"
                for alias in node.names:
                    assert not alias.name.startswith("_"), \
                        f"{path.name}: imports private name {node.module}.{alias.name}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not any(p.startswith("_") for p in alias.name.split(".")), \
                        f"{path.name}: imports private module {alias.name}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    # the kernel must be this interpreter (jupyter_client maps the kernelspec's
    # "python" to sys.executable), or the notebook would test another install
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.prefix)"))
    before = {p.name for p in NOTEBOOK_DIR.iterdir()}
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        pytest.fail(f"{path.name} failed:\n{err}", pytrace=False)
    prefix = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert Path(prefix).resolve() == Path(sys.prefix).resolve()
    # notebooks write into temporary folders, never into the repository
    assert {p.name for p in NOTEBOOK_DIR.iterdir()} == before
