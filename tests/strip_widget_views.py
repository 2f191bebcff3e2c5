"""Keep stored notebooks deterministic: drop ipywidgets' per-run state after `make notebooks`.

Executing a notebook stores, for every widget, a random model id and its full state (the
similarity heatmap's PNG among it), so each run rewrote hundreds of lines. Stored notebooks keep
the playground cells' plain-text output instead ("run this cell in JupyterLab to use it"), which
is also what GitHub and nbviewer can show. Running the cell in JupyterLab creates the widget.

    python tests/strip_widget_views.py notebooks/*.ipynb
"""

import json
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip(path: Path) -> bool:
    nb = json.loads(path.read_text(encoding="utf-8"))
    changed = nb.get("metadata", {}).pop("widgets", None) is not None
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                del out["data"][WIDGET_VIEW]
                changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        if strip(Path(arg)):
            print(f"stripped widget state from {arg}")
