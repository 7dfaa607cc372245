"""The installed ML stack is the locked one, and every studio backend's libraries import.

The other backend tests swap in tiny models but import the real libraries; this file makes a
broken install (a torchaudio built for another torch, say) fail by name instead of hiding
behind tests that only use the fast fake backend.
"""

import importlib.metadata
import json
import subprocess
import sys
import tomllib

from tests.support import ROOT

# What each studio backend imports when it loads its model (see speech.py, images.py, svd.py),
# tried in a fresh interpreter so nothing imported earlier in the test run can mask a failure.
STUDIO_IMPORTS = {
    "speech (coqui-tts)": "from TTS.api import TTS; from TTS.utils.manage import ModelManager",
    "images (diffusers)": "from diffusers import AutoPipelineForText2Image, DiffusionPipeline",
    "clips (Stable Video Diffusion)": "from diffusers import StableVideoDiffusionPipeline",
    "audio I/O (torchaudio, torchcodec)": "import torchaudio, torchcodec; torchaudio.functional",
}

ML_PACKAGES = ["torch", "torchaudio", "torchcodec", "coqui-tts", "diffusers", "transformers"]


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if "version" in p}


TRY_EACH = """
import json, sys
failures = {}
for backend, statement in json.loads(sys.argv[1]).items():
    try:
        exec(statement)
    except Exception as error:
        failures[backend] = f"{type(error).__name__}: {error}"
print(json.dumps(failures))
"""


def test_it_imports_every_studio_backend_library():
    done = subprocess.run(
        [sys.executable, "-c", TRY_EACH, json.dumps(STUDIO_IMPORTS)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    problems = [f"The {b} backend cannot import: {e}" for b, e in failures.items()]
    assert not problems, "\n".join(problems)


def test_it_runs_exactly_the_locked_versions():
    locked = locked_versions()
    for name in ML_PACKAGES:
        assert importlib.metadata.version(name) == locked[name], f"{name} is not the locked version"
    mismatched = []
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"].lower().replace("_", "-").replace(".", "-")
        if name in locked and name != "storyboard" and dist.version != locked[name]:
            mismatched.append(f"{name} {dist.version} (locked {locked[name]})")
    assert not mismatched, "Installed versions differ from uv.lock: " + ", ".join(mismatched)
