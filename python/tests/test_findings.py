"""The findings scripts, run small (`--quick`): they write their document and figures, and the
numbers in the document's tables are the data's, recomputed here independently."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

pytest.importorskip("torch")
pytest.importorskip("matplotlib")
stats = pytest.importorskip("scipy.stats")
sys.path.insert(0, str(ROOT / "scripts"))
from findings_stats import fmt, holm, p_text  # noqa: E402

GROUPS = ["train", "test", "uniform", "gaussian", "interpolation"]


def run_script(name, out, work, *extra):
    subprocess.run([sys.executable, "-W", "ignore", str(ROOT / "scripts" / name), "--quick", "--out", str(out),
                    "--work", str(work), *extra], check=True, capture_output=True, text=True, timeout=900)


def table_rows(doc, first_header):
    """The rows (lists of cells) of every table whose first header cell is `first_header`."""
    rows, inside = [], False
    for line in doc.splitlines():
        if line.startswith("| " + first_header + " |"):
            inside = True
            continue
        if inside and line.startswith("|---"):
            continue
        if inside and line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        else:
            inside = False
    return rows


def test_holm_by_definition():
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.uniform(0, 0.2, rng.integers(1, 12))
        m = len(p)
        order = np.argsort(p)
        expected = np.empty(m)
        for rank, i in enumerate(order):
            expected[i] = min(1.0, max((m - j) * p[order[j]] for j in range(rank + 1)))
        assert np.allclose(holm(p), expected)
        # Holm controls the family-wise error: never below the raw p, never below Bonferroni's
        # smallest.
        assert np.all(holm(p) >= p) and holm(p).min() == pytest.approx(min(1.0, m * p.min()))


def quick_run(tmp_path_factory, script):
    """The script's `--quick` run: the directories of its document and of its data."""
    out, work = tmp_path_factory.mktemp("doc"), tmp_path_factory.mktemp("work")
    run_script(script, out, work)
    return out, work


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return quick_run(tmp_path_factory, "paper_findings.py")


def test_digits_document_and_figures_are_written(digits):
    out, _ = digits
    doc = (out / "paper-findings.md").read_text()
    for name in ["findings_distance.png", "findings_growth.png", "findings_counts.png"]:
        assert is_png(out / "img" / name)
        assert f"img/{name}" in doc
    for heading in ["## Finding 1", "## Finding 2", "## Security uses", "## Activation regions and linear regions",
                    "## Summary"]:
        assert heading in doc
    verdicts = re.findall(r"\| (reproduced|not reproduced|mixed) \|", doc)
    assert len(verdicts) == 4


def test_digits_tables_are_the_data(digits):
    out, work = digits
    doc = (out / "paper-findings.md").read_text()
    data = json.loads((work / "data.json").read_text())
    tests = json.loads((work / "tests.json").read_text())
    epochs = data["config"]["epochs"]
    last = epochs[-1]

    def pooled(net, epoch, group, key, radius=None):
        v = []
        for runs in data["networks"][net]["seeds"].values():
            x = runs[str(epoch)][group][key]
            v += x if radius is None else x[str(radius)]
        return v

    # Median rho [IQR] per group and epoch, for each network in turn.
    rows = table_rows(doc, "group")
    nets = list(data["networks"])
    assert len(rows) == len(GROUPS) * len(nets)
    for k, row in enumerate(rows):
        net, group = nets[k // len(GROUPS)], GROUPS[k % len(GROUPS)]
        assert row[0] == group
        for e, cell in zip(epochs, row[1:]):
            q = np.percentile(pooled(net, e, group, "distance"), [25, 50, 75])
            assert cell == f"{fmt(q[1])} [{fmt(q[0])}-{fmt(q[2])}]"
    # Finding 2's exact-count rows: n, medians and the Mann-Whitney p recomputed from the records.
    rows = table_rows(doc, "exact count")
    assert len(rows) == sum(len(info["radii"]) * 4 for info in data["networks"].values())
    k = 0
    for net, info in data["networks"].items():
        for r in info["radii"]:
            for c in GROUPS[1:]:
                row = rows[k]
                k += 1
                assert row[0] == f"r = {r}: train vs {c}"
                a = [v for v in pooled(net, last, "train", "regions", r) if v is not None]
                b = [v for v in pooled(net, last, c, "regions", r) if v is not None]
                assert row[1:5] == [str(len(a)), str(len(b)), fmt(float(np.median(a))), fmt(float(np.median(b)))]
                assert row[7] == p_text(stats.mannwhitneyu(a, b, method="asymptotic").pvalue)
                delta = 2 * stats.mannwhitneyu(a, b).statistic / (len(a) * len(b)) - 1
                assert row[5].startswith(fmt(float(delta)) + " [")
    # Holm's column: every test of the document, adjusted together.
    names = [n for n, t in tests.items() if t["p"] == t["p"]]
    adjusted = holm([tests[n]["p"] for n in names])
    for n, h in zip(names, adjusted):
        assert tests[n]["p_holm"] == pytest.approx(h)
    assert f"across all {len(tests)} tests" in doc


def test_digits_document_follows_the_data(digits, tmp_path):
    """Re-analysing changed data changes the document: nothing in it is written by hand."""
    out, work = digits
    data = json.loads((work / "data.json").read_text())
    for info in data["networks"].values():
        for runs in info["seeds"].values():
            for snap in runs.values():
                for g in GROUPS:
                    snap[g]["distance"] = [3 * d for d in snap[g]["distance"]]
    (tmp_path / "data.json").write_text(json.dumps(data))
    run_script("paper_findings.py", tmp_path / "doc", tmp_path, "--reuse")
    before = table_rows((out / "paper-findings.md").read_text(), "group")
    after = table_rows((tmp_path / "doc" / "paper-findings.md").read_text(), "group")
    median = lambda cell: float(cell.split(" [")[0])
    for b, a in zip(before, after):
        for cb, ca in zip(b[1:], a[1:]):
            assert median(ca) == pytest.approx(3 * median(cb), rel=1e-2)  # both rounded to 3 digits


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    return quick_run(tmp_path_factory, "paper_findings_mnist.py")


def test_mnist_document_tables_are_the_data(mnist):
    out, work = mnist
    doc = (out / "paper-findings-mnist.md").read_text()
    assert is_png(out / "img" / "findings_mnist.png")
    data = json.loads((work / "data.json").read_text())
    budget = data["config"]["max_regions"]
    radii = data["config"]["radii"]

    def censored(group, r):
        return [v if v is not None else budget for v in data["groups"][group]["regions"][str(r)]]

    # The counts table: finished balls and censored medians, per group and radius.
    rows = table_rows(doc, "group")
    assert len(rows) == len(data["groups"]) * len(radii)
    for row in rows:
        group, r = row[0], float(row[1])
        c = censored(group, r)
        unfinished = sum(v is None for v in data["groups"][group]["regions"][str(r)])
        assert row[2] == f"{len(c) - unfinished}/{len(c)}"
        assert row[3].split(" [")[0] == (fmt(float(np.median(c))) if np.median(c) < budget else f"≥ {budget}")
    # Finding 2's rows: Mann-Whitney on the censored counts, recomputed with scipy.
    for row in table_rows(doc, "quantity"):
        if row[0].startswith("count r = ") and ": test vs " in row[0]:
            r = float(row[0].split("count r = ")[1].split(":")[0])
            other = row[0].split("test vs ")[1]
            a, b = censored("test", r), censored(other, r)
            assert row[7] == p_text(stats.mannwhitneyu(a, b, method="asymptotic").pvalue)
            assert row[1:3] == [str(len(a)), str(len(b))]
    assert re.search(r"\| 2: more regions at data points \(matched controls\) \| (reproduced|not reproduced|mixed) \|", doc)
