"""Statistics shared by the findings scripts (scripts/paper_findings*.py), on scipy.stats.

Every test a document reports goes through a `Tests` registry, so that the document can give each
p-value with Holm's correction across all of them. Effect sizes come with percentile bootstrap
intervals (scipy.stats.bootstrap, seeded):
  * unpaired (two groups of different points): Cliff's delta = P(a > b) - P(a < b), from the
    Mann-Whitney U statistic, and the ratio of the medians;
  * paired (the same points measured twice): the paired delta = P(d > 0) - P(d < 0) and the median
    per-point ratio (after / before), i.e. the typical growth factor of one point.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000


def holm(p_values):
    """Holm's step-down adjusted p-values (same order as given): the k-th smallest is multiplied by
    m - k + 1, then made non-decreasing, and capped at 1."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        adjusted[i] = running
    return adjusted


def cliffs_delta(a, b, axis=-1):
    """P(a > b) - P(a < b) over all pairs, from the Mann-Whitney U statistic."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    u = stats.mannwhitneyu(a, b, axis=axis, method="asymptotic").statistic
    return 2.0 * u / (a.shape[axis] * b.shape[axis]) - 1.0


def median_ratio(a, b, axis=-1):
    return np.median(a, axis=axis) / np.median(b, axis=axis)


def paired_delta(a, b, axis=-1):
    return np.mean(np.sign(np.asarray(a) - np.asarray(b)), axis=axis)


def median_growth(a, b, axis=-1):
    """The median per-point ratio a / b (values must be positive)."""
    return np.exp(np.median(np.log(a) - np.log(b), axis=axis))


def _interval(data, statistic, paired, seed):
    if len(data[0]) < 2 or len(data[1]) < 2:
        return (float("nan"), float("nan"))
    ci = stats.bootstrap(data, statistic, paired=paired, vectorized=True, n_resamples=RESAMPLES,
                         confidence_level=CONFIDENCE, method="percentile",
                         random_state=np.random.default_rng(seed)).confidence_interval
    return (float(ci.low), float(ci.high))


class Effect:
    """An effect size with its bootstrap interval."""

    def __init__(self, estimate, interval):
        self.estimate = float(estimate)
        self.low, self.high = interval

    def __str__(self):
        return f"{fmt(self.estimate)} [{fmt(self.low)}, {fmt(self.high)}]"

    def as_dict(self):
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


class Comparison:
    """A test between two groups and its effect sizes."""

    def __init__(self, a, b, paired, seed=0):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        self.a, self.b, self.paired = a, b, paired
        self.n = (len(a), len(b))
        self.ratio = None
        if len(a) == 0 or len(b) == 0:
            self.p, self.delta = float("nan"), Effect(float("nan"), (float("nan"),) * 2)
        else:
            if paired:
                assert len(a) == len(b), "paired samples have equal sizes"
                d = a - b
                self.p = float(stats.wilcoxon(d, method="approx").pvalue) if np.any(d != 0) else 1.0
                delta, ratio = paired_delta, median_growth
            else:
                self.p = float(stats.mannwhitneyu(a, b, method="asymptotic").pvalue)
                delta, ratio = cliffs_delta, median_ratio
            self.delta = Effect(delta(a, b), _interval((a, b), delta, paired, seed))
            if np.all(a > 0) and np.all(b > 0):
                self.ratio = Effect(ratio(a, b), _interval((a, b), ratio, paired, seed))
        self.p_holm = None  # filled by Tests.finish

    def as_dict(self):
        return {"paired": self.paired, "n": self.n, "p": self.p, "p_holm": self.p_holm,
                "delta": self.delta.as_dict(), "ratio": None if self.ratio is None else self.ratio.as_dict(),
                "median_a": float(np.median(self.a)), "median_b": float(np.median(self.b))}


class Tests:
    """Every test of one document, for Holm's correction across all of them."""

    def __init__(self):
        self.all = {}

    def add(self, name, a, b, paired, seed=0):
        assert name not in self.all, name
        c = Comparison(a, b, paired, seed)
        self.all[name] = c
        return c

    def finish(self):
        """Holm's correction over every test that could be run (NaN: a group was empty)."""
        names = [n for n, c in self.all.items() if not np.isnan(c.p)]
        for name, adjusted in zip(names, holm([self.all[n].p for n in names])):
            self.all[name].p_holm = float(adjusted)

    def as_dict(self):
        return {name: c.as_dict() for name, c in self.all.items()}


def fmt(x, digits=3):
    """Numbers as the documents print them (the tests read them back the same way)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def p_text(p):
    return "-" if p is None or np.isnan(p) else ("<1e-300" if p < 1e-300 else f"{p:.2g}")


def direction(c):
    """Whether A is significantly larger (+1) or smaller (-1) than B after Holm, or neither (0)."""
    if c.p_holm is None or c.p_holm >= 0.05:
        return 0
    return 1 if c.delta.estimate > 0 else -1
