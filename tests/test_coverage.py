"""Coverage of the report's intervals on simulated data with known truth (fast version of benchmarks/coverage.py).

The benchmark draws 400 evaluation sets per scenario and asks >= 0.92 of
every interval; here 40 sets with 200 resamples and a loose bound (0.8,
about 3.5 binomial standard deviations below 0.95 at 40 sets) catch a
method that breaks, such as an interval of zero width or a biased one that
never reaches the truth, in a few seconds.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SPEC = importlib.util.spec_from_file_location("coverage_bench", Path(__file__).resolve().parents[1] / "benchmarks" / "coverage.py")
coverage_bench = importlib.util.module_from_spec(SPEC)  # type: ignore[arg-type]
SPEC.loader.exec_module(coverage_bench)  # type: ignore[union-attr]


@pytest.mark.parametrize("scenario", ["default", "one-class"])
def test_every_reported_interval_covers_the_truth(scenario: str) -> None:
    hits = coverage_bench.simulate(scenario, sims=40, n=240, n_boot=200, seed=1, group_boot=False)
    families = {key[1].split("[")[0] for key in hits}
    assert {"accuracy", "group", "disparity"} <= families
    low = {key: float(np.mean([c for c, _ in v])) for key, v in hits.items() if np.mean([c for c, _ in v]) < 0.8}
    assert not low, low
