"""Tests the paper's two findings with regionwalk's exact counts on the 8x8 digits data set
(scikit-learn's copy is in fixtures/datasets/), and writes docs/paper-findings.md and its figures.

  (1) While a network trains, region boundaries move away from the training points.
  (2) Balls centred at training points hold more regions than balls at arbitrary points.

Design (docs/paper-findings.md repeats it):
  * Two ReLU MLPs (64-32-32-10 and 64-32-32-32-32-10), each trained from SEEDS initialisations with
    Adam (PyTorch, float64); snapshots at EPOCHS, from initialisation (epoch 0) on.
  * Per seed, PER_GROUP fresh points per group: training points, held-out points, and three
    matched controls: uniform in the data's pixel box, Gaussian with the data's per-pixel mean and
    spread clipped to [0, 1], and interpolations between two training images of different classes.
  * On every snapshot and point: the L2 distance rho to the nearest region boundary, exact counts
    in L2 balls of RADII (walks stopped at MAX_REGIONS are left out and counted), and the paper's
    and the best default bound (`regionwalk.audit`).
  * Finding 1: each point's growth rho(last) / rho(0), paired across epochs (Wilcoxon), and the
    growth at training points against the growth at each control (Mann-Whitney). The same for the
    count at the middle radius.
  * Finding 2: counts at the last epoch, training points against each control and against
    held-out points (Mann-Whitney), and the same comparisons on the paper's bound alone.
  * Security uses on one final network: PGD examples against their sources and against random
    perturbations of the same norm, and a backdoor (paired designs).
  * Every p-value is given raw and with Holm's correction across all tests of the document;
    effect sizes are Cliff's delta and ratios of medians with bootstrap 95% intervals.

Usage (from the repository root):
    bash scripts/python-env.sh && target/py-venv/bin/python scripts/paper_findings.py
`--quick` runs a tiny version (two seeds, small networks, few points) into `--out` (the test
suite runs it).
"""
from __future__ import annotations

import argparse
import decimal
import gzip
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from findings_stats import Tests, cliffs_delta, direction, fmt, p_text  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
GROUPS = ["train", "test", "uniform", "gaussian", "interpolation"]
CONTROLS = GROUPS[1:]
FULL = dict(seeds=[0, 1, 2, 3, 4], epochs=[0, 1, 5, 25, 100], per_group=200, radii=[0.02, 0.05, 0.1],
            max_regions=5000, networks={"shallow": (32, 32), "deep": (32, 32, 32, 32)},
            deep_radii=[0.02, 0.05], attack_points=200, linear_points=20)
QUICK = dict(seeds=[0, 1], epochs=[0, 1, 3], per_group=12, radii=[0.02, 0.05], max_regions=500,
             networks={"shallow": (8, 8), "deep": (8, 8, 8)}, deep_radii=[0.02], attack_points=12,
             linear_points=3)
LR, BATCH = 1e-3, 64


def load_digits():
    with gzip.open(os.path.join(ROOT, "fixtures", "datasets", "sklearn_digits.csv.gz"), "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :64] / 16.0, data[:, 64].astype(int)


def stratified_split(y, test_fraction, seed):
    """Indices of a train/test split that keeps each class's share (70/30 here)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(test_fraction * len(idx)))
        test += list(idx[:k])
        train += list(idx[k:])
    return np.sort(train), np.sort(test)


def draw_groups(rng, x, x_train, y_train, x_test, n):
    """Fresh points of every group: data points and three matched controls."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    i, j = rng.choice(len(x_train), n), rng.choice(len(x_train), n)
    same = y_train[i] == y_train[j]
    while same.any():  # interpolate between images of different classes
        j[same] = rng.choice(len(x_train), same.sum())
        same = y_train[i] == y_train[j]
    lam = rng.uniform(0.3, 0.7, (n, 1))
    return {
        "train": x_train[rng.choice(len(x_train), n, replace=False)],
        "test": x_test[rng.choice(len(x_test), n, replace=False)],
        "uniform": rng.uniform(lo, hi, (n, x.shape[1])),
        "gaussian": np.clip(rng.normal(x.mean(axis=0), x.std(axis=0), (n, x.shape[1])), 0.0, 1.0),
        "interpolation": lam * x_train[i] + (1 - lam) * x_train[j],
    }


def model(widths):
    import torch
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1]).double()


def train(widths, seed, epochs, x_train, y_train, snapshot):
    """Adam from a seeded initialisation; `snapshot(epoch, module)` at every epoch in `epochs`
    (0 = the initialisation)."""
    import torch
    torch.manual_seed(seed)
    m = model(widths)
    opt = torch.optim.Adam(m.parameters(), LR)
    g = torch.Generator().manual_seed(seed)
    X, Y = torch.tensor(x_train), torch.tensor(y_train)
    if 0 in epochs:
        snapshot(0, m)
    for epoch in range(1, max(epochs) + 1):
        perm = torch.randperm(len(X), generator=g)
        for k in range(0, len(X), BATCH):
            idx = perm[k:k + BATCH]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(m(X[idx]), Y[idx]).backward()
            opt.step()
        if epoch in epochs:
            snapshot(epoch, m)
    return m


def predict(m, x):
    import torch
    with torch.no_grad():
        return m(torch.tensor(x)).argmax(1).numpy()


def log10(text):
    return None if text is None else float(decimal.Decimal(text).log10())


def audit(net, points, radii, max_regions, estimate_seconds=None):
    """Per point: rho, and per radius the exact count (None past the budget; `lower` holds the
    walk's count, a certified lower bound) and log10 bounds; with `estimate_seconds`, the
    statistical estimate of every unfinished ball and its interval."""
    import regionwalk as rw
    extra = {} if estimate_seconds is None else {"estimate": True, "budget": estimate_seconds}
    cols = rw.audit(net, points, radii, exact=True, max_regions=max_regions, as_frame=False, **extra)
    n = len(points)
    keys = ("regions", "lower", "paper", "best", "estimate", "estimate_low", "estimate_high", "estimate_reliable")
    out = {"distance": [None] * n, **{key: {str(r): [None] * n for r in radii} for key in keys}}
    for k in range(len(cols["point"])):
        p, r = int(cols["point"][k]), str(float(cols["radius"][k]))
        out["distance"][p] = float(cols["boundary_distance"][k])
        out["regions"][r][p] = int(cols["regions"][k]) if cols["complete"][k] else None
        out["lower"][r][p] = int(cols["regions"][k])
        out["paper"][r][p] = log10(cols["paper"][k])
        out["best"][r][p] = log10(cols["best"][k])
        if estimate_seconds is not None and cols["estimate"][k] is not None and cols["estimate"][k] == cols["estimate"][k]:
            for key in keys[4:]:
                v = cols[key][k]
                out[key][r][p] = bool(v) if key == "estimate_reliable" else float(v)
    return out


def experiment(cfg):
    """Trains, snapshots and audits; returns everything the document reads."""
    import regionwalk as rw
    x, y = load_digits()
    tr, te = stratified_split(y, 0.3, 0)
    x_train, y_train, x_test, y_test = x[tr], y[tr], x[te], y[te]
    data = {"config": cfg, "networks": {}}
    final = {}
    for name, hidden in cfg["networks"].items():
        widths = (64, *hidden, 10)
        radii = cfg["radii"] if name == "shallow" else cfg["deep_radii"]
        data["networks"][name] = {"widths": widths, "radii": radii, "seeds": {}}
        for seed in cfg["seeds"]:
            groups = draw_groups(np.random.default_rng(1000 + seed), x, x_train, y_train, x_test, cfg["per_group"])
            runs = data["networks"][name]["seeds"][str(seed)] = {}

            def snapshot(epoch, m):
                net = rw.Network.from_torch(m)
                acc = (float((predict(m, x_train) == y_train).mean()), float((predict(m, x_test) == y_test).mean()))
                runs[str(epoch)] = {"accuracy": acc, **{g: audit(net, pts, radii, cfg["max_regions"])
                                                        for g, pts in groups.items()}}
                print(f"{name} seed {seed} epoch {epoch}: accuracy {acc[0]:.3f}/{acc[1]:.3f}", flush=True)

            m = train(widths, seed, cfg["epochs"], x_train, y_train, snapshot)
            if seed == cfg["seeds"][0]:
                final[name] = m
    data["security"] = security(cfg, final["shallow"], x_train, y_train, x_test, y_test)
    data["linear"] = linear_counts(cfg, final["shallow"], x_train)
    return data


def gradient(m, x, y):
    import torch
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(m(xt), torch.tensor(y), reduction="sum").backward()
    return xt.grad.numpy()


def pgd(m, x, y, eps, norm, steps=40):
    """Projected gradient ascent on the loss within the eps-ball and the pixel box [0, 1]."""
    adv = x.copy()
    alpha = eps / 8
    for _ in range(steps):
        g = gradient(m, adv, y)
        if norm == "linf":
            adv = np.clip(adv + alpha * np.sign(g), x - eps, x + eps)
        else:
            adv = adv + alpha * g / (np.linalg.norm(g, axis=1, keepdims=True) + 1e-12)
            d = adv - x
            adv = x + d * np.minimum(1.0, eps / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-12))
        adv = np.clip(adv, 0.0, 1.0)
    return adv


def random_like(rng, x, adv, norm):
    """A random perturbation of each source with the norm of its PGD perturbation, in [0, 1]."""
    ord_ = np.inf if norm == "linf" else 2
    size = np.linalg.norm(adv - x, ord=ord_, axis=1, keepdims=True)
    d = rng.choice([-1.0, 1.0], x.shape) if norm == "linf" else rng.standard_normal(x.shape)
    d /= np.linalg.norm(d, ord=ord_, axis=1, keepdims=True)
    return np.clip(x + size * d, 0.0, 1.0)


def security(cfg, m, x_train, y_train, x_test, y_test):
    """PGD examples, random perturbations of the same norm and their sources; a backdoor."""
    import regionwalk as rw
    rng = np.random.default_rng(1)
    net = rw.Network.from_torch(m)
    radii = cfg["radii"]
    correct = np.flatnonzero(predict(m, x_test) == y_test)
    idx = rng.choice(correct, min(cfg["attack_points"], len(correct)), replace=False)
    clean, labels = x_test[idx], y_test[idx]
    out = {"attacks": {}}
    for norm, eps in [("linf", 0.1), ("l2", 1.0)]:
        adv = pgd(m, clean, labels, eps, norm)
        fooled = predict(m, adv) != labels
        noise = random_like(rng, clean[fooled], adv[fooled], norm)
        out["attacks"][norm] = {
            "eps": eps, "attacked": len(labels), "fooled": int(fooled.sum()),
            "noise_fooled": int((predict(m, noise) != labels[fooled]).sum()),
            "adversarial": audit(net, adv[fooled], radii, cfg["max_regions"]),
            "random": audit(net, noise, radii, cfg["max_regions"]),
            "source": audit(net, clean[fooled], radii, cfg["max_regions"]),
        }
    # Backdoor: a 2x2 bright patch in the bottom-right corner relabels 5% of the training set as 0.
    trigger = [54, 55, 62, 63]

    def stamp(v):
        v = v.copy()
        v[:, trigger] = 1.0
        return v
    poison = rng.choice(len(x_train), int(0.05 * len(x_train)), replace=False)
    xp, yp = x_train.copy(), y_train.copy()
    xp[poison], yp[poison] = stamp(xp[poison]), 0
    bad = train((64, *cfg["networks"]["shallow"], 10), cfg["seeds"][0], [max(cfg["epochs"])], xp, yp, lambda e, _: None)
    not_zero = np.flatnonzero(y_test != 0)
    sample = x_test[rng.choice(not_zero, min(cfg["attack_points"], len(not_zero)), replace=False)]
    bad_net = rw.Network.from_torch(bad)
    out["backdoor"] = {
        "trigger": trigger, "poisoned": len(poison),
        "clean_accuracy": (float((predict(bad, x_test) == y_test).mean()), float((predict(m, x_test) == y_test).mean())),
        "success": float((predict(bad, stamp(x_test[not_zero])) == 0).mean()),
        "triggered_bad": audit(bad_net, stamp(sample), radii, cfg["max_regions"]),
        "clean_bad": audit(bad_net, sample, radii, cfg["max_regions"]),
        "triggered_clean": audit(net, stamp(sample), radii, cfg["max_regions"]),
    }
    return out


def linear_counts(cfg, m, x_train):
    """Activation and linear regions (`count --linear`) in balls at a few training points."""
    import regionwalk as rw
    net = rw.Network.from_torch(m)
    r = cfg["radii"][len(cfg["radii"]) // 2]
    pts = x_train[np.random.default_rng(2).choice(len(x_train), cfg["linear_points"], replace=False)]
    rows = []
    for p in pts:
        c = rw.count(net, p, r, linear=True, max_regions=cfg["max_regions"])
        rows.append({"activation": c.regions, "linear": c.linear_regions, "complete": c.complete})
    return {"radius": r, "rows": rows}


# ---------------------------------------------------------------------------------------------
# Analysis: everything below reads only `data`.


def pooled(data, net, epoch, group, key, radius=None):
    """Values over all seeds, aligned point by point (None kept where a walk did not finish)."""
    out = []
    for runs in data["networks"][net]["seeds"].values():
        v = runs[str(epoch)][group][key]
        out += v if radius is None else v[str(radius)]
    return out


def complete_pairs(a, b):
    keep = [i for i in range(len(a)) if a[i] is not None and b[i] is not None and a[i] > 0 and b[i] > 0]
    return np.array([a[i] for i in keep], float), np.array([b[i] for i in keep], float)


def finished(v):
    return np.array([x for x in v if x is not None], float)


def analyse(data):
    """Runs every test of the document into one registry (for Holm), keyed by name."""
    tests = Tests()
    first, last = data["config"]["epochs"][0], data["config"]["epochs"][-1]
    for net, info in data["networks"].items():
        mid = info["radii"][len(info["radii"]) // 2]
        growth = {}
        for g in GROUPS:
            a, b = complete_pairs(pooled(data, net, last, g, "distance"), pooled(data, net, first, g, "distance"))
            tests.add(f"{net}/F1/rho/{g}", a, b, paired=True)
            growth[g] = a / b
            a, b = complete_pairs(pooled(data, net, last, g, "regions", mid), pooled(data, net, first, g, "regions", mid))
            tests.add(f"{net}/F1/count/{g}", a, b, paired=True)
            growth[g + "/count"] = a / b
        for c in CONTROLS:
            tests.add(f"{net}/F1/rho-growth/train-vs-{c}", growth["train"], growth[c], paired=False)
            tests.add(f"{net}/F1/count-growth/train-vs-{c}", growth["train/count"], growth[c + "/count"], paired=False)
        for r in info["radii"]:
            for c in CONTROLS:
                tests.add(f"{net}/F2/exact/{r}/train-vs-{c}", finished(pooled(data, net, last, "train", "regions", r)),
                          finished(pooled(data, net, last, c, "regions", r)), paired=False)
                tests.add(f"{net}/F2/paper/{r}/train-vs-{c}", finished(pooled(data, net, last, "train", "paper", r)),
                          finished(pooled(data, net, last, c, "paper", r)), paired=False)
    sec = data["security"]
    for norm, att in sec["attacks"].items():
        if att["fooled"] < 3:
            continue
        for a_name, b_name in [("adversarial", "source"), ("random", "source"), ("adversarial", "random")]:
            a, b = complete_pairs(att[a_name]["distance"], att[b_name]["distance"])
            tests.add(f"attack/{norm}/{a_name}-vs-{b_name}/rho", a, b, paired=True)
            for r in data["networks"]["shallow"]["radii"]:
                a, b = complete_pairs(att[a_name]["regions"][str(r)], att[b_name]["regions"][str(r)])
                tests.add(f"attack/{norm}/{a_name}-vs-{b_name}/{r}", a, b, paired=True)
    bd = sec["backdoor"]
    for a_name, b_name in [("triggered_bad", "clean_bad"), ("triggered_bad", "triggered_clean")]:
        a, b = complete_pairs(bd[a_name]["distance"], bd[b_name]["distance"])
        tests.add(f"backdoor/{a_name}-vs-{b_name}/rho", a, b, paired=True)
        for r in data["networks"]["shallow"]["radii"]:
            a, b = complete_pairs(bd[a_name]["regions"][str(r)], bd[b_name]["regions"][str(r)])
            tests.add(f"backdoor/{a_name}-vs-{b_name}/{r}", a, b, paired=True)
    tests.finish()
    return tests


def verdict(directions):
    """"reproduced" if every comparison goes the paper's way significantly (after Holm), "not
    reproduced" if none does, "mixed" otherwise."""
    good = sum(d == 1 for d in directions)
    return "reproduced" if good == len(directions) else "not reproduced" if good == 0 else "mixed"


def effect_row(label, c):
    ratio = "-" if c.ratio is None else str(c.ratio)
    return (f"| {label} | {c.n[0]} | {c.n[1]} | {fmt(float(np.median(c.a)))} | {fmt(float(np.median(c.b)))} | "
            f"{c.delta} | {ratio} | {p_text(c.p)} | {p_text(c.p_holm)} |")


def table_header(first, paired):
    d = "paired δ" if paired else "Cliff's δ"
    r = "median ratio A/B per pair" if paired else "ratio of medians"
    return [f"| {first} | n A | n B | median A | median B | {d} [95% CI] | {r} [95% CI] | p | p (Holm) |",
            "|---|---|---|---|---|---|---|---|---|"]


def figures(data, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    img = os.path.join(out_dir, "img")
    os.makedirs(img, exist_ok=True)
    epochs = data["config"]["epochs"]
    nets = list(data["networks"])
    fig, axes = plt.subplots(1, len(nets), figsize=(5.5 * len(nets), 4), sharey=True)
    for ax, net in zip(np.atleast_1d(axes), nets):
        for g in GROUPS:
            vals = [np.array(pooled(data, net, e, g, "distance"), float) for e in epochs]
            q = np.array([np.percentile(v, [25, 50, 75]) for v in vals])
            xs = np.arange(len(epochs))
            ax.plot(xs, q[:, 1], marker="o", label=f"{g} (n={len(vals[0])})")
            ax.fill_between(xs, q[:, 0], q[:, 2], alpha=0.15)
        ax.set_xticks(np.arange(len(epochs)), [str(e) for e in epochs])
        ax.set_yscale("log")
        ax.set_xlabel("epoch (0 = initialisation)")
        ax.set_title(f"{'-'.join(map(str, data['networks'][net]['widths']))}: median and IQR")
    np.atleast_1d(axes)[0].set_ylabel("L2 distance to nearest region boundary\n(pixels in [0, 1])")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(img, "findings_distance.png"), dpi=110)
    plt.close(fig)

    first, last = epochs[0], epochs[-1]
    fig, axes = plt.subplots(1, len(nets), figsize=(5.5 * len(nets), 4), sharey=True)
    for ax, net in zip(np.atleast_1d(axes), nets):
        vals, labels = [], []
        for g in GROUPS:
            a, b = complete_pairs(pooled(data, net, last, g, "distance"), pooled(data, net, first, g, "distance"))
            vals.append(np.log2(a / b))
            labels.append(f"{g}\nn={len(a)}")
        ax.boxplot(vals, showfliers=False)
        ax.set_xticks(np.arange(1, len(labels) + 1), labels, fontsize=8)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"{'-'.join(map(str, data['networks'][net]['widths']))}: growth of rho, epoch {first} to {last}")
    np.atleast_1d(axes)[0].set_ylabel("log2 rho(last) / rho(first), per point")
    fig.tight_layout()
    fig.savefig(os.path.join(img, "findings_growth.png"), dpi=110)
    plt.close(fig)

    radii = data["networks"]["shallow"]["radii"]
    fig, axes = plt.subplots(1, len(radii), figsize=(4.2 * len(radii), 4))
    for ax, r in zip(np.atleast_1d(axes), radii):
        vals = [finished(pooled(data, "shallow", last, g, "regions", r)) for g in GROUPS]
        ax.boxplot(vals, showfliers=True, flierprops={"markersize": 2})
        ax.set_xticks(np.arange(1, len(GROUPS) + 1), [f"{g}\nn={len(v)}" for g, v in zip(GROUPS, vals)], fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"L2 ball, r = {r}")
    np.atleast_1d(axes)[0].set_ylabel(f"exact activation regions per ball (epoch {last})")
    fig.tight_layout()
    fig.savefig(os.path.join(img, "findings_counts.png"), dpi=110)
    plt.close(fig)


def document(data, tests, version, seconds, quick):
    cfg = data["config"]
    epochs, first, last = cfg["epochs"], cfg["epochs"][0], cfg["epochs"][-1]
    T = tests.all
    n_tests = len(T)
    lines = [
        "# The paper's findings, tested with exact counts on digits",
        "",
        f"Written by `scripts/paper_findings.py`{' --quick' if quick else ''} ({version}; {seconds / 60:.0f} min on "
        "2 cores). Data: scikit-learn's 8x8 digits (1,797 images, pixels scaled to [0, 1]), stratified 70/30 split. "
        f"Networks: {', '.join('-'.join(map(str, v['widths'])) for v in data['networks'].values())} ReLU MLPs, "
        f"Adam (lr {LR}, batch {BATCH}, PyTorch float64), {len(cfg['seeds'])} training seeds each, snapshots at "
        f"epochs {epochs} (0 = initialisation).",
        "",
        f"**Points.** Per seed, {cfg['per_group']} fresh points per group, so {cfg['per_group'] * len(cfg['seeds'])} "
        "per group pooled over seeds: **train** (training images), **test** (held-out images), and three "
        "controls matched to the data: **uniform** in the data's per-pixel box, **gaussian** with the data's "
        "per-pixel mean and spread clipped to [0, 1], **interpolation** between two training images of "
        "different classes (weight uniform in [0.3, 0.7]).",
        "",
        "**Measured.** What is counted are *activation regions* (sets of inputs sharing one ReLU sign "
        "pattern; the linear regions of the function are unions of them, see the end). For every point and "
        "snapshot: rho, the L2 distance to the nearest region boundary; exact counts in open L2 balls of radii "
        f"{cfg['radii']} ({data['networks']['deep']['radii']} on the deeper network); the paper's bound and the "
        f"best default bound (`regionwalk.audit`). Walks stopped at {cfg['max_regions']} regions are left out of the "
        "count statistics (their number is given).",
        "",
        f"**Statistics.** Paired designs (the same points at two epochs, an attack and its source, two networks "
        "on the same inputs) use the Wilcoxon signed-rank test; independent groups the Mann-Whitney U test "
        "(scipy.stats, two-sided). Effect sizes with percentile bootstrap 95% intervals: Cliff's δ "
        "(P(A > B) - P(A < B)) and the ratio of medians; paired, δ = P(A > B) - P(A < B) over the pairs and the "
        f"median per-point ratio A/B. Every p-value is given raw and with Holm's correction across all {n_tests} "
        "tests of this document; \"significant\" means Holm-adjusted p < 0.05.",
        "",
        "## Training",
        "",
        "| network | epoch | train accuracy (mean over seeds) | test accuracy |",
        "|---|---|---|---|",
    ]
    for net, info in data["networks"].items():
        for e in epochs:
            acc = np.array([runs[str(e)]["accuracy"] for runs in info["seeds"].values()])
            lines.append(f"| {'-'.join(map(str, info['widths']))} | {e} | {fmt(acc[:, 0].mean())} | {fmt(acc[:, 1].mean())} |")
    lines += ["", "## Finding 1: boundaries move away from training points during training", "",
              "The paper's claim is about training points specifically: their distance to the nearest boundary "
              "should grow more than that of other points. So each point's growth rho(last)/rho(0) is computed "
              "(paired across epochs), and the growth at training points is compared with the growth at each "
              "control group.", "",
              "![rho over training](img/findings_distance.png)", "",
              "![growth of rho per point](img/findings_growth.png)", ""]
    f1_verdicts = {}
    for net, info in data["networks"].items():
        arch = "-".join(map(str, info["widths"]))
        mid = info["radii"][len(info["radii"]) // 2]
        lines += [f"### {arch}", "", f"Median rho [IQR] per group and epoch, pooled over seeds:", "",
                  "| group | " + " | ".join(f"epoch {e}" for e in epochs) + " |", "|---|" + "---|" * len(epochs)]
        for g in GROUPS:
            cells = []
            for e in epochs:
                v = np.array(pooled(data, net, e, g, "distance"), float)
                q = np.percentile(v, [25, 50, 75])
                cells.append(f"{fmt(q[1])} [{fmt(q[0])}-{fmt(q[2])}]")
            lines.append(f"| {g} | " + " | ".join(cells) + " |")
        lines += ["", f"Growth from epoch {first} to {last}, each group against itself (A = epoch {last}, B = epoch {first}):", "",
                  *table_header("rho", True)]
        lines += [effect_row(g, T[f"{net}/F1/rho/{g}"]) for g in GROUPS]
        lines += ["", *table_header(f"count at r = {mid}", True)]
        lines += [effect_row(g, T[f"{net}/F1/count/{g}"]) for g in GROUPS]
        lines += ["", "The growth at training points against the growth at each control (A = train's per-point growth "
                  "factors, B = the control's):", "", *table_header("growth of", False)]
        for c in CONTROLS:
            lines.append(effect_row(f"rho: train vs {c}", T[f"{net}/F1/rho-growth/train-vs-{c}"]))
        for c in CONTROLS:
            lines.append(effect_row(f"count: train vs {c}", T[f"{net}/F1/count-growth/train-vs-{c}"]))
        per_seed = []
        for seed, runs in info["seeds"].items():
            a, b = complete_pairs(runs[str(last)]["train"]["distance"], runs[str(first)]["train"]["distance"])
            u, v = complete_pairs(runs[str(last)]["uniform"]["distance"], runs[str(first)]["uniform"]["distance"])
            per_seed.append(f"{seed}: {fmt(float(cliffs_delta(a / b, u / v)))}")
        dirs = [direction(T[f"{net}/F1/rho-growth/train-vs-{c}"]) for c in CONTROLS]
        f1_verdicts[arch] = verdict(dirs)
        grew = direction(T[f"{net}/F1/rho/train"])
        lines += ["", f"Cliff's δ of the growth of rho, train vs uniform, per training seed: {', '.join(per_seed)}.", "",
                  f"**Verdict ({arch}): {f1_verdicts[arch]}.** Training points' rho "
                  + ("grew" if grew == 1 else "shrank" if grew == -1 else "did not change significantly")
                  + f" (median growth {T[f'{net}/F1/rho/train'].ratio}); their growth exceeds the control's "
                  f"significantly against {sum(d == 1 for d in dirs)} of {len(dirs)} controls "
                  f"({', '.join(c for c, d in zip(CONTROLS, dirs) if d == 1) or 'none'}) and falls short of it against "
                  f"{sum(d == -1 for d in dirs)}.", ""]
    lines += ["## Finding 2: more regions around training points than around other points", "",
              f"Epoch {last}, exact counts pooled over seeds; A = training points, B = the other group.", "",
              "![region counts](img/findings_counts.png)", ""]
    f2_verdicts = {}
    for net, info in data["networks"].items():
        arch = "-".join(map(str, info["widths"]))
        lines += [f"### {arch}", "", *table_header("exact count", False)]
        dirs = []
        for r in info["radii"]:
            for c in CONTROLS:
                t = T[f"{net}/F2/exact/{r}/train-vs-{c}"]
                lines.append(effect_row(f"r = {r}: train vs {c}", t))
                if c != "test":
                    dirs.append(direction(t))
        unfinished = {g: sum(x is None for r in info["radii"] for x in pooled(data, net, last, g, "regions", r)) for g in GROUPS}
        lines += ["", "Walks stopped by the budget (left out above): "
                  + ", ".join(f"{g} {n}" for g, n in unfinished.items()) + ".", ""]
        f2_verdicts[arch] = verdict(dirs)
        held = [direction(T[f"{net}/F2/exact/{r}/train-vs-test"]) for r in info["radii"]]
        lines += [f"**Verdict ({arch}): {f2_verdicts[arch]}** against the three off-data controls: training points hold "
                  f"significantly more regions in {sum(d == 1 for d in dirs)} of {len(dirs)} (radius, control) "
                  f"comparisons and significantly fewer in {sum(d == -1 for d in dirs)}. Against held-out images: "
                  f"more in {sum(d == 1 for d in held)}, fewer in {sum(d == -1 for d in held)} of {len(held)} radii."
                  + (" Held-out images hold as many regions as training images, so the excess belongs to the data "
                     "distribution, not to the points trained on." if any(d == 1 for d in dirs) and not any(held) else ""),
                  ""]
        lines += ["**The paper's bound beside the exact counts** (epoch " f"{last}; medians, bounds as log10):", "",
                  "| radius | group | median exact [IQR] | median log10 paper bound | median log10 best bound |",
                  "|---|---|---|---|---|"]
        for r in info["radii"]:
            for g in GROUPS:
                ex = finished(pooled(data, net, last, g, "regions", r))
                q = np.percentile(ex, [25, 50, 75]) if len(ex) else [np.nan] * 3
                pap = finished(pooled(data, net, last, g, "paper", r))
                best = finished(pooled(data, net, last, g, "best", r))
                lines.append(f"| {r} | {g} | {fmt(q[1])} [{fmt(q[0])}-{fmt(q[2])}] | {fmt(np.median(pap))} | "
                             f"{fmt(np.median(best))} |")
        agree = []
        lines += ["", "The same train-vs-control comparisons on the paper's bound alone:", "",
                  *table_header("log10 paper bound", False)]
        for r in info["radii"]:
            for c in CONTROLS:
                t = T[f"{net}/F2/paper/{r}/train-vs-{c}"]
                lines.append(effect_row(f"r = {r}: train vs {c}", t))
                agree.append(direction(t) == direction(T[f"{net}/F2/exact/{r}/train-vs-{c}"]))
        lines += ["", f"The paper's bound alone orders training points against a group as the exact counts do "
                  f"(same significant direction, or neither significant) in {sum(agree)} of {len(agree)} comparisons.", ""]
    lines += security_lines(data, T)
    lin = data["linear"]
    rows = [r for r in lin["rows"] if r["complete"]]
    lines += ["## Activation regions and linear regions", "",
              f"At {len(lin['rows'])} training points of the seed-{cfg['seeds'][0]} {'-'.join(map(str, data['networks']['shallow']['widths']))} "
              f"network (epoch {last}, r = {lin['radius']}), `count --linear` merges neighbouring activation regions "
              "with the same affine map:", "", "| point | activation regions | linear regions |", "|---|---|---|"]
    lines += [f"| {i} | {r['activation']} | {r['linear']} |" for i, r in enumerate(rows)]
    lines += ["", "## Summary", "", "| finding | network | verdict |", "|---|---|---|"]
    lines += [f"| 1: boundaries move away from training points | {a} | {v} |" for a, v in f1_verdicts.items()]
    lines += [f"| 2: more regions at training points | {a} | {v} |" for a, v in f2_verdicts.items()]
    lines.append("")
    return "\n".join(lines) + "\n"


def security_lines(data, T):
    sec = data["security"]
    radii = data["networks"]["shallow"]["radii"]
    lines = ["## Security uses on the final network (seed 0, 64-"
             f"{'-'.join(map(str, data['networks']['shallow']['widths'][1:-1]))}-10)", ""]
    for norm, att in sec["attacks"].items():
        lines += [f"**PGD ({norm}, eps = {att['eps']}, 40 steps)** fooled {att['fooled']} of {att['attacked']} correctly "
                  f"classified test images. Each is compared with its source and with a random perturbation of the "
                  f"source of the same {norm} norm (which fooled {att['noise_fooled']}); all paired by source.", ""]
        if att["fooled"] < 3:
            lines += ["Too few successful attacks to compare.", ""]
            continue
        lines += table_header("quantity", True)
        for a_name, b_name in [("adversarial", "source"), ("random", "source"), ("adversarial", "random")]:
            lines.append(effect_row(f"rho: {a_name} vs {b_name}", T[f"attack/{norm}/{a_name}-vs-{b_name}/rho"]))
            for r in radii:
                lines.append(effect_row(f"count r = {r}: {a_name} vs {b_name}", T[f"attack/{norm}/{a_name}-vs-{b_name}/{r}"]))
        lines.append("")
    bd = sec["backdoor"]
    lines += [f"**Backdoor.** A 2x2 patch (pixels {bd['trigger']} set to 1) relabels {bd['poisoned']} training images "
              f"as 0. Clean test accuracy: backdoored network {fmt(bd['clean_accuracy'][0])}, clean network "
              f"{fmt(bd['clean_accuracy'][1])}; the trigger turns {fmt(100 * bd['success'])}% of non-zero test digits "
              "into 0. Paired on the same test images:", "", *table_header("quantity", True)]
    for a_name, b_name, label in [("triggered_bad", "clean_bad", "backdoored net: triggered vs clean inputs"),
                                  ("triggered_bad", "triggered_clean", "triggered inputs: backdoored vs clean net")]:
        lines.append(effect_row(f"rho, {label}", T[f"backdoor/{a_name}-vs-{b_name}/rho"]))
        for r in radii:
            lines.append(effect_row(f"count r = {r}, {label}", T[f"backdoor/{a_name}-vs-{b_name}/{r}"]))
    return lines + [""]


def run_document(description, doc_name, work_name, run_experiment, analyse, figures, document):
    """What both findings scripts do: parse the options, compute (or with `--reuse` reload) the
    data, run the tests, draw the figures and write the document `doc_name` from them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny run (tests)")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"), help="directory of the document and img/")
    parser.add_argument("--work", default=os.path.join(ROOT, "target", work_name))
    parser.add_argument("--reuse", action="store_true", help="re-analyse the data.json of --work")
    args = parser.parse_args()
    from importlib.metadata import version
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    data_path = os.path.join(args.work, "data.json")
    if args.reuse:
        with open(data_path) as f:
            data = json.load(f)
    else:
        started = time.time()
        data = run_experiment(args.quick)
        data["seconds"] = time.time() - started
        with open(data_path, "w") as f:
            json.dump(data, f)
    tests = analyse(data)
    with open(os.path.join(args.work, "tests.json"), "w") as f:
        json.dump(tests.as_dict(), f)
    figures(data, args.out)
    path = os.path.join(args.out, doc_name)
    with open(path, "w") as f:
        f.write(document(data, tests, f"regionwalk {version('regionwalk')}", data["seconds"], args.quick))
    print(f"wrote {path}")


def main():
    run_document(__doc__.split("\n")[0], "paper-findings.md", "paper-findings",
                 lambda quick: experiment(QUICK if quick else FULL), analyse, figures, document)


if __name__ == "__main__":
    sys.exit(main())
