"""What the action server loads: importing the actions loads no index and no torch."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import json, sys
from rasa_sdk.executor import ActionExecutor
from helpdesk import search
import actions.server
ActionExecutor().register_package("actions")  # what Sanic's main process does
print(json.dumps({"torch": "torch" in sys.modules,
                  "sentence_transformers": "sentence_transformers" in sys.modules,
                  "adaptation": "index.adaptation" in sys.modules,
                  "onnxruntime": "onnxruntime" in sys.modules,
                  "searcher_loaded": search._searcher is not None}))
"""


def test_importing_the_actions_loads_no_index_and_no_torch() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    loaded = json.loads(probe.stdout.splitlines()[-1])
    assert loaded == {
        "torch": False,
        "sentence_transformers": False,
        "adaptation": False,
        "onnxruntime": False,
        "searcher_loaded": False,
    }
