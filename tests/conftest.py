"""Test-wide set-up: offline, quiet, and any non-loopback connection is an error.

This runs before any test module imports huggingface_hub (which reads HF_HUB_OFFLINE once).
The network guard is installed here and, through PYTHONPATH, in every child Python: the notebook
kernels nbval starts inherit this process's environment.
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NETGUARD = ROOT / "tests" / "netguard"

os.environ["HF_HUB_OFFLINE"] = "1"
# The stored notebook outputs were made with the default model on a CPU in float32; the tests
# compare against them, so they run that way even on a GPU machine or with LLM_LAB_MODEL set.
for _setting in ("LLM_LAB_MODEL", "LLM_LAB_ZH_MODEL", "LLM_LAB_ZH_EMBEDDER"):
    os.environ.pop(_setting, None)
os.environ["LLM_LAB_DEVICE"] = "cpu"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
# Training runs (tests and the ch12 notebooks under nbval) write to a temp folder, not outputs/.
os.environ["LLM_LAB_OUTPUTS"] = tempfile.mkdtemp(prefix="llm-lab-outputs-")
atexit.register(shutil.rmtree, os.environ["LLM_LAB_OUTPUTS"], ignore_errors=True)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NETGUARD), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(NETGUARD))

import llm_lab_netguard  # noqa: E402

llm_lab_netguard.install()


def _tokenizer(name: str):
    from transformers import AutoTokenizer

    import helpers as H

    return AutoTokenizer.from_pretrained(H.model_path(name))


@pytest.fixture(scope="session")
def smol_tokenizer():
    """The real SmolLM2 tokenizer (fast to load; set-up has fetched it)."""
    return _tokenizer("smollm2-135m-instruct")


@pytest.fixture(scope="session")
def bert_tokenizer():
    """bert-base-uncased WordPiece, from the bundled all-MiniLM-L6-v2."""
    return _tokenizer("all-minilm-l6-v2")


@pytest.fixture(scope="session")
def qwen_tokenizer():
    return _tokenizer("qwen2.5-tokenizer")


@pytest.fixture(scope="session")
def gpt4_tokenizer():
    return _tokenizer("cl100k-base")


@pytest.fixture(scope="session")
def four_tokenizers(smol_tokenizer, bert_tokenizer, qwen_tokenizer, gpt4_tokenizer):
    return {"SmolLM2": smol_tokenizer, "BERT": bert_tokenizer, "Qwen2.5": qwen_tokenizer,
            "GPT-4": gpt4_tokenizer}


@pytest.fixture(scope="session")
def smol_model():
    from transformers import AutoModelForCausalLM

    import helpers as H

    return AutoModelForCausalLM.from_pretrained(H.model_path("smollm2-135m-instruct")).eval()


@pytest.fixture(scope="session")
def bert_model():
    from transformers import AutoModel

    import helpers as H

    return AutoModel.from_pretrained(H.model_path("all-minilm-l6-v2")).eval()


@pytest.fixture(scope="session")
def embedder():
    from sentence_transformers import SentenceTransformer

    import helpers as H

    return SentenceTransformer(str(H.model_path("all-minilm-l6-v2")), device="cpu")


BOOK_TEXT = """
English and CAPITALIZATION
🎵 鸟
show_tokens False None elif == >= else: two tabs:"\t\t" Three tabs: "\t\t\t"
12.0*50=600
"""


BROWSER_RUN = "test_browser.py::test_notebook_runs_clean_in_jupyterlab["


def pytest_collection_modifyitems(config, items):
    """Execute each notebook once: where the browser suite runs a notebook in JupyterLab (and
    compares its outputs with the stored ones by nbval's rules, tests/stored_outputs.py), nbval's
    own execution of that notebook is left out. Without Chromium, or when only notebooks/ is
    selected (`pytest notebooks/ch01_generating_text.ipynb`), nbval runs them as before."""
    from browser import chromium_path

    in_browser = {item.nodeid.split(BROWSER_RUN, 1)[1].rstrip("]") for item in items if BROWSER_RUN in item.nodeid}
    if not in_browser or chromium_path() is None:
        return
    covered = [item for item in items
               if type(item).__name__ == "IPyNbCell" and Path(str(item.fspath)).name in in_browser]
    if covered:
        config.hook.pytest_deselected(items=covered)
        gone = set(covered)
        items[:] = [item for item in items if item not in gone]
        config._llm_lab_covered = sorted({Path(str(item.fspath)).name for item in covered})


def pytest_terminal_summary(terminalreporter, config):
    names = getattr(config, "_llm_lab_covered", None)
    if names:
        terminalreporter.write_line(f"nbval's own run of {len(names)} notebooks left out: the browser suite executes "
                                    f"each once in JupyterLab and compares its outputs with the stored ones by "
                                    f"nbval's rules ({', '.join(names)})")
