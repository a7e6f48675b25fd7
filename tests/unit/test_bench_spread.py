"""bench/spread.py: the range a ratio of medians takes over bootstrap
resamples of a benchmark's own times."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import spread  # noqa: E402


def test_identical_times_give_no_spread():
    assert spread.ratio_interval([0.6] * 7, [0.5] * 7) == (1.2, 1.2)


def test_the_interval_holds_the_runs_own_ratio_and_is_repeatable():
    boots = [0.69, 0.70, 0.68, 0.72, 0.66, 0.71, 0.69, 0.75, 0.67]
    floors = [0.54, 0.55, 0.53, 0.56, 0.52, 0.55, 0.54, 0.60, 0.50]
    low, high = spread.ratio_interval(boots, floors)
    assert low < 0.69 / 0.54 < high
    assert (low, high) == spread.ratio_interval(boots, floors)


def test_noisier_times_give_a_wider_interval():
    floors = [0.50, 0.52, 0.54, 0.56, 0.58]
    quiet = spread.ratio_interval([0.64, 0.65, 0.66, 0.67, 0.68], floors)
    noisy = spread.ratio_interval([0.55, 0.60, 0.66, 0.75, 0.85], floors)
    assert noisy[1] - noisy[0] > quiet[1] - quiet[0]


def test_describe_ratio_says_the_ratio_then_the_range():
    text = spread.describe_ratio([0.6] * 5, [0.5] * 5)
    assert text == "1.20 (90% of resamples 1.20-1.20)"
