"""How far a ratio of medians can be trusted (for boot_overhead.py and
image_prep.py): on two shared cores the same code gives boot ratios from
1.17 to 1.30 in runs an hour apart, so one median against a target says
little by itself. :func:`ratio_interval` resamples the run's own times
(the bootstrap: draw as many times as were measured, with replacement,
from each side; take the ratio of the two medians; repeat) and gives the
range that holds the middle ``level`` of those ratios. A target inside it
is neither met nor missed by this run: more runs, or a quieter machine,
would tell."""

import random
import statistics

RESAMPLES = 2000


def ratio_interval(numerator, denominator, level=0.9, seed=0):
    """(low, high): the middle ``level`` of the bootstrapped ratios
    median(numerator) / median(denominator). Seeded, so that the same
    times always print the same interval."""
    draw = random.Random(seed)
    ratios = sorted(
        statistics.median(draw.choices(numerator, k=len(numerator)))
        / statistics.median(draw.choices(denominator, k=len(denominator)))
        for _ in range(RESAMPLES))
    tail = (1 - level) / 2
    return ratios[int(tail * (RESAMPLES - 1))], ratios[int((1 - tail) * (RESAMPLES - 1))]


def describe_ratio(numerator, denominator):
    """``1.19 (90% of resamples 1.12-1.27)``."""
    low, high = ratio_interval(numerator, denominator)
    ratio = statistics.median(numerator) / statistics.median(denominator)
    return f"{ratio:.2f} (90% of resamples {low:.2f}-{high:.2f})"
