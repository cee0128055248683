"""`regionwalk audit-compare` against scipy.stats on random data: the tests' p-values, the effect
sizes by their definitions, and the bootstrap intervals against scipy's percentile bootstrap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import cli_json, run_cli

stats = pytest.importorskip("scipy.stats")


def write_report(path: Path, distances, counts_by_radius) -> Path:
    """An audit report with one boundary distance per point and, per radius, a count per point
    (None: a walk that did not finish)."""
    with open(path, "w") as f:
        for radius, counts in counts_by_radius.items():
            for point, (d, n) in enumerate(zip(distances, counts)):
                f.write(json.dumps({
                    "point": point, "label": None, "radius": radius, "norm": "l2",
                    "regions": None if n is None else int(n), "complete": n is not None,
                    "boundary_distance": float(d), "boundary_neuron": None, "paper": None, "best": None,
                    "seconds": 0.0}) + "\n")
    return path


def assert_interval_like_scipy(ours: dict, data, statistic, paired: bool) -> None:
    """Our percentile interval and scipy's differ only by Monte Carlo error (different random
    streams): each of our ends lies between the 1% and 4% (96% and 99%) quantiles of scipy's
    bootstrap distribution, around the 2.5% (97.5%) that a 95% interval takes."""
    theirs = stats.bootstrap(data, statistic, paired=paired, vectorized=False, n_resamples=2000,
                             method="percentile", random_state=np.random.default_rng(1))
    q = lambda p: np.quantile(theirs.bootstrap_distribution, p)
    assert q(0.01) - 1e-12 <= ours["low"] <= q(0.04) + 1e-12, (ours, theirs.confidence_interval)
    assert q(0.96) - 1e-12 <= ours["high"] <= q(0.99) + 1e-12, (ours, theirs.confidence_interval)
    assert ours["low"] <= ours["estimate"] <= ours["high"]


@pytest.mark.parametrize("seed", range(4))
def test_unpaired_comparison_matches_scipy(tmp_path, seed):
    rng = np.random.default_rng(seed)
    na, nb = rng.integers(15, 60, size=2)
    da, db = rng.lognormal(0.0, 1.0, na), rng.lognormal(0.3 * seed - 0.4, 1.0, nb)
    # Counts are small integers: ties everywhere, and a few walks that did not finish.
    ca = [None if rng.random() < 0.1 else int(v) for v in rng.poisson(5, na) + 1]
    cb = [None if rng.random() < 0.1 else int(v) for v in rng.poisson(6, nb) + 1]
    a = write_report(tmp_path / "a.jsonl", da, {0.1: ca})
    b = write_report(tmp_path / "b.jsonl", db, {0.1: cb})
    report = cli_json("audit-compare", str(a), str(b), "--seed", str(seed))
    assert report["test"] == "mann-whitney-u" and not report["paired"]
    complete = lambda c: np.array([v for v in c if v is not None], dtype=float)
    for ours, x, y in [(report["boundary_distance"], da, db),
                       (report["per_radius"][0]["regions"], complete(ca), complete(cb))]:
        ref = stats.mannwhitneyu(x, y, method="asymptotic")
        assert ours["statistic"] == pytest.approx(ref.statistic)
        assert ours["p_value"] == pytest.approx(ref.pvalue, rel=1e-5)
        assert (ours["a"]["n"], ours["b"]["n"]) == (len(x), len(y))
        delta = lambda p, q: 2 * stats.mannwhitneyu(p, q, method="asymptotic").statistic / (len(p) * len(q)) - 1
        shift = lambda p, q: np.median(np.subtract.outer(p, q))
        ratio = lambda p, q: np.median(p) / np.median(q)
        for name, f in [("cliffs_delta", delta), ("shift", shift), ("median_ratio", ratio)]:
            assert ours[name]["estimate"] == pytest.approx(f(x, y), abs=1e-12)
            assert_interval_like_scipy(ours[name], (x, y), f, paired=False)


@pytest.mark.parametrize("seed", range(4))
def test_paired_comparison_matches_scipy(tmp_path, seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(20, 70))
    before = rng.lognormal(0.0, 0.5, n)
    after = before * rng.lognormal(0.1 * seed, 0.3, n)
    counts_before = rng.poisson(4, n) + 1
    counts_after = counts_before + rng.integers(-1, 3, n)  # many zero and tied differences
    counts_after = [None if rng.random() < 0.1 else max(int(v), 1) for v in counts_after]
    a = write_report(tmp_path / "after.jsonl", after, {0.05: counts_after})
    b = write_report(tmp_path / "before.jsonl", before, {0.05: list(counts_before)})
    report = cli_json("audit-compare", str(a), str(b), "--paired", "--seed", str(seed))
    assert report["test"] == "wilcoxon-signed-rank" and report["paired"]
    keep = [i for i, v in enumerate(counts_after) if v is not None]
    ca = np.array([counts_after[i] for i in keep], dtype=float)
    cb = np.array([counts_before[i] for i in keep], dtype=float)
    for ours, x, y in [(report["boundary_distance"], after, before),
                       (report["per_radius"][0]["regions"], ca, cb)]:
        assert ours["pairs"] == len(x)
        ref = stats.wilcoxon(x - y, method="approx")
        assert ours["statistic"] == pytest.approx(ref.statistic)
        assert ours["p_value"] == pytest.approx(ref.pvalue, rel=1e-5)
        delta = lambda p, q: np.mean(np.sign(p - q))
        shift = lambda p, q: np.median([(d1 + d2) / 2 for i, d1 in enumerate(p - q) for d2 in (p - q)[i:]])
        ratio = lambda p, q: np.median(p) / np.median(q)
        for name, f in [("cliffs_delta", delta), ("shift", shift), ("median_ratio", ratio)]:
            assert ours[name]["estimate"] == pytest.approx(f(x, y), abs=1e-12)
            assert_interval_like_scipy(ours[name], (x, y), f, paired=True)


def test_a_shift_is_found_and_a_null_is_not(tmp_path):
    rng = np.random.default_rng(7)
    base = rng.lognormal(0.0, 0.5, 80)
    # A null by construction: every perturbation is matched by its opposite.
    noise = rng.normal(0.0, 0.05, 40)
    null = write_report(tmp_path / "null.jsonl", base * np.exp(np.r_[noise, -noise]), {0.1: [1] * 80})
    grown = write_report(tmp_path / "grown.jsonl", base * 1.3 * rng.lognormal(0.0, 0.05, 80), {0.1: [1] * 80})
    ref = write_report(tmp_path / "ref.jsonl", base, {0.1: [1] * 80})
    shifted = cli_json("audit-compare", str(grown), str(ref), "--paired")["boundary_distance"]
    assert shifted["p_value"] < 1e-6 and shifted["cliffs_delta"]["low"] > 0.5
    assert 1.2 < shifted["median_ratio"]["low"] < 1.3 < shifted["median_ratio"]["high"] < 1.4
    flat = cli_json("audit-compare", str(null), str(ref), "--paired")["boundary_distance"]
    assert flat["cliffs_delta"]["estimate"] == 0.0 and flat["p_value"] > 0.5
    assert flat["cliffs_delta"]["low"] < 0 < flat["cliffs_delta"]["high"]
    # Unpaired, the same 30% shift drowns in the spread between points.
    assert cli_json("audit-compare", str(grown), str(ref))["boundary_distance"]["p_value"] > shifted["p_value"]
    # Identical counts: no evidence, and a zero shift.
    counts = cli_json("audit-compare", str(grown), str(ref), "--paired")["per_radius"][0]["regions"]
    assert counts["p_value"] == 1.0 and counts["shift"]["estimate"] == 0.0


def test_seeded_intervals_do_not_depend_on_threads(tmp_path):
    rng = np.random.default_rng(3)
    a = write_report(tmp_path / "a.jsonl", rng.lognormal(size=40), {0.1: list(rng.poisson(3, 40) + 1)})
    b = write_report(tmp_path / "b.jsonl", rng.lognormal(size=40), {0.1: list(rng.poisson(3, 40) + 1)})
    one = run_cli("--threads", "1", "audit-compare", str(a), str(b), "--json", "--seed", "5").stdout
    two = run_cli("--threads", "2", "audit-compare", str(a), str(b), "--json", "--seed", "5").stdout
    assert one == two


def test_bad_comparisons_are_clear_errors(tmp_path):
    rng = np.random.default_rng(4)
    a = write_report(tmp_path / "a.jsonl", rng.lognormal(size=10), {0.1: [1] * 10})
    b = write_report(tmp_path / "b.jsonl", rng.lognormal(size=12), {0.1: [1] * 12})
    err = run_cli("audit-compare", str(a), str(b), "--paired", expect=1).stderr
    assert "same points" in err and "point 10 " in err
    err = run_cli("audit-compare", str(a), str(a), "--confidence", "1.5", expect=1).stderr
    assert "confidence" in err
    # The text table names the test and the effect sizes.
    text = run_cli("audit-compare", str(a), str(a), "--paired").stdout
    assert "Wilcoxon signed-rank" in text and "Cliff's delta" in text


def test_python_compares_as_the_cli_does(tmp_path):
    import regionwalk as rw
    rng = np.random.default_rng(9)
    a = write_report(tmp_path / "a.jsonl", rng.lognormal(size=30), {0.1: list(rng.poisson(3, 30) + 1)})
    b = write_report(tmp_path / "b.jsonl", rng.lognormal(size=30), {0.1: list(rng.poisson(4, 30) + 1)})
    for paired in (False, True):
        flags = ["--paired"] if paired else []
        cli = cli_json("audit-compare", str(a), str(b), "--seed", "3", "--resamples", "500", *flags)
        del cli["a"], cli["b"]
        assert rw.audit_compare(a, b, paired=paired, seed=3, resamples=500) == cli
    with pytest.raises(ValueError, match="same points"):
        rw.audit_compare(a, write_report(tmp_path / "c.jsonl", [1.0], {0.1: [1]}), paired=True)
