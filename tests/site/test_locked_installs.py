"""bin/setup installs exactly uv.lock, and refuses a lock that no longer matches pyproject.toml."""

import shutil
import subprocess
from pathlib import Path

from tests.support import ROOT


def copy_of_the_project(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    shutil.copy(ROOT / "bin" / "setup", tmp_path / "bin" / "setup")
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def setup(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "bin/setup", "dev"], cwd=project, capture_output=True, text=True, timeout=120
    )


def test_it_refuses_a_dependency_range_changed_without_refreshing_the_lock(tmp_path: Path):
    project = copy_of_the_project(tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pysbd>=0.3.4,<0.4"', '"pysbd>=0.3,<0.4"'))
    done = setup(project)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "uv.lock does not match pyproject.toml: run 'uv lock', then ./bin/test, and commit both."
    )
    assert not (project / ".venv").exists()  # nothing was installed from the stale lock
