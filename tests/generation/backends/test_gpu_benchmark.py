"""benchmarks/gpu.py takes the GPU figures; here it runs with --tiny on the CPU so it can't rot."""

from __future__ import annotations

import pytest

from benchmarks import gpu

FIGURES = [
    "image_load_s",
    "image_step_ms",
    "images_per_s_batch1",
    "images_per_s_batch4",
    "image_peak_gib_batch1",
    "image_peak_gib_batch4",
    "image_cancel_ms_median",
    "video_load_s",
    "video_seconds_per_clip",
    "video_step_s",
    "video_peak_gib",
    "video_cancel_ms_median",
]


def test_it_measures_and_prints_every_figure_with_tiny_models(capsys, tmp_path) -> None:
    figures = gpu.main(["--tiny", "--json", str(tmp_path / "figures.json")])
    printed = capsys.readouterr().out
    print(printed)
    for name in FIGURES:
        assert name in figures and f"{name}: " in printed, name
    assert figures["scale"] == "tiny" and (tmp_path / "figures.json").is_file()
    for name in FIGURES:
        if "peak" not in name:  # peak GPU memory has no meaning on the CPU
            assert figures[name] > 0, name
    # A cancel stops a job within one step (plus the step report that notices it).
    assert figures["image_cancel_ms_median"] < 2 * figures["image_step_ms"] + 200
    assert figures["video_cancel_ms_median"] < 2 * figures["video_step_s"] * 1000 + 200


def test_full_size_needs_a_gpu(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        gpu.main([])
