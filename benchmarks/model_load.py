"""Image jobs with the model loaded once per worker vs loaded for every job.

Uses a tiny random-weight SD pipeline built on the fly (no downloads), so the figures show the
shape of the win, not its size: a real sd-turbo takes seconds to load and under a second per
image on a GPU, which makes loading per job far worse than here.

    .venv/bin/python benchmarks/model_load.py --jobs 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generation.backends.base import JobInput  # noqa: E402
from generation.backends.devices import LOAD_COUNTS  # noqa: E402
from generation.backends.images import DiffusersImageBackend  # noqa: E402
from tests.support.tiny_models import build_tiny_sd  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = build_tiny_sd(folder / "tiny-sd")
        work = folder / "work"
        job = JobInput(
            stage="images",
            sentence_id=1,
            position=1,
            text="",
            image_prompt="a lighthouse on a cliff at dusk",
            style_prompt="watercolor",
            voice="",
            language="en",
            width=args.size,
            height=args.size,
            fps=24,
            camera_movement="static",
            motion_strength=0.5,
            seed=0,
            work_dir=work,
        )

        def no_steps(done: int, total: int) -> None:
            pass

        # Warm up imports and kernels so neither side pays for them.
        DiffusersImageBackend(str(model), device="cpu").generate(job, no_steps)

        def loaded_once() -> float:
            begin = time.perf_counter()
            resident = DiffusersImageBackend(str(model), device="cpu")
            for seed in range(args.jobs):
                resident.generate(replace(job, seed=seed), no_steps)
            return time.perf_counter() - begin

        def loaded_per_job() -> float:
            begin = time.perf_counter()
            for seed in range(args.jobs):
                backend = DiffusersImageBackend(str(model), device="cpu")
                backend.generate(replace(job, seed=seed), no_steps)
            return time.perf_counter() - begin

        # Alternate the two, several rounds, and keep medians: the machine may be shared.
        LOAD_COUNTS.clear()
        once_times, per_job_times = [], []
        for _ in range(args.rounds):
            once_times.append(loaded_once())
            per_job_times.append(loaded_per_job())
        once, per_job = statistics.median(once_times), statistics.median(per_job_times)
        loads = LOAD_COUNTS["images"]

    print(f"{args.jobs} image jobs, tiny SD, {args.size}x{args.size}, 4 steps, CPU")
    print(f"  model loaded once    median {once:.2f} s  (1 load per round)")
    print(f"  model loaded per job median {per_job:.2f} s  ({args.jobs} loads per round)")
    print(f"  loads counted: {loads} over {args.rounds} rounds")
    print(f"  per job / once = {per_job / once:.2f}")


if __name__ == "__main__":
    main()
