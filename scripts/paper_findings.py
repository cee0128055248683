"""Reproduces the paper's two findings with regionwalk's exact counts on the 8x8 digits data set
(shipped with scikit-learn; a copy is in fixtures/datasets/), and writes docs/paper-findings.md and
its figures.

  (1) While a network trains, region boundaries move away from the training points.
  (2) Balls centred at training points hold more regions than balls at arbitrary points.

A 64-32-32-10 ReLU MLP is trained with Adam (scikit-learn, seed 0); snapshots at several epochs are
saved as regionwalk JSON. For every snapshot, `regionwalk audit` runs on training, test and random
points (uniform in the data's box, and Gaussian around the data mean with the data's spread) at
several radii (pixels scaled to [0, 1]); `regionwalk audit-compare` gives the Mann-Whitney tests.
The same pipeline then audits the paper's two security uses on the final network: adversarial
examples from PGD (L-inf and L2) against their clean sources, and a backdoor (a pixel-patch trigger
planted in 5% of the training set) -- triggered vs clean inputs, and backdoored vs clean network --
and, as a larger case, the bundled MNIST 784-256-256-10 network on bundled MNIST test images.

Usage (from the repository root): python3 scripts/paper_findings.py
Needs: pip install scikit-learn matplotlib numpy; cargo (builds regionwalk in release mode).
"""
import gzip
import json
import os
import subprocess
import sys
import warnings

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORK = os.path.join(ROOT, "target", "paper-findings")
DOCS = os.path.join(ROOT, "docs")
BIN = os.path.join(ROOT, "target", "release", "regionwalk")
EPOCHS = [1, 5, 25, 100]
RADII = [0.01, 0.02, 0.05, 0.1]
# Radius 0.1 (hundreds of regions per ball) only for the final network, to keep the run short.
FINAL_ONLY = [0.1]
PER_GROUP = 30
MAX_REGIONS = 2000


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def load_digits():
    with gzip.open(os.path.join(ROOT, "fixtures", "datasets", "sklearn_digits.csv.gz"), "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :64] / 16.0, data[:, 64].astype(int)


def save_network(mlp, path):
    layers = [{"weight": w.T.tolist(), "bias": b.tolist()} for w, b in zip(mlp.coefs_, mlp.intercepts_)]
    with open(path, "w") as f:
        json.dump({"layers": layers}, f)


def main():
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    os.makedirs(WORK, exist_ok=True)
    run(["bash", os.path.join(ROOT, "scripts", "setup.sh")])
    run(["cargo", "build", "--release", "--quiet", "--manifest-path", os.path.join(ROOT, "Cargo.toml")])
    version = run([BIN, "--version"]).strip()
    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    rng = np.random.default_rng(0)
    groups = {
        "train": x_train[rng.choice(len(x_train), PER_GROUP, replace=False)],
        "test": x_test[rng.choice(len(x_test), PER_GROUP, replace=False)],
        "uniform": rng.uniform(x.min(axis=0), x.max(axis=0) + 1e-9, size=(PER_GROUP, 64)),
        "gaussian": rng.normal(x.mean(axis=0), x.std(axis=0), size=(PER_GROUP, 64)),
    }
    for name, pts in groups.items():
        np.savetxt(os.path.join(WORK, f"{name}.csv"), pts, delimiter=",")

    mlp = MLPClassifier(hidden_layer_sizes=(32, 32), activation="relu", solver="adam", learning_rate_init=1e-3,
                        batch_size=64, max_iter=1, warm_start=True, random_state=0)
    accuracy = {}
    results = {}  # (epoch, group) -> list of records
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(1, max(EPOCHS) + 1):
            mlp.fit(x_train, y_train)
            if epoch not in EPOCHS:
                continue
            accuracy[epoch] = (mlp.score(x_train, y_train), mlp.score(x_test, y_test))
            net = os.path.join(WORK, f"epoch{epoch}.json")
            save_network(mlp, net)
            for name in groups:
                out = os.path.join(WORK, f"epoch{epoch}-{name}.jsonl")
                radii = RADII if epoch == max(EPOCHS) else [r for r in RADII if r not in FINAL_ONLY]
                run([BIN, "audit", net, "--points", os.path.join(WORK, f"{name}.csv"), "--radius",
                     ",".join(map(str, radii)), "--exact", "--max-regions", str(MAX_REGIONS), "--out", out, "--quiet"])
                with open(out) as f:
                    results[(epoch, name)] = [json.loads(line) for line in f]
            print(f"epoch {epoch}: accuracy train {accuracy[epoch][0]:.3f} test {accuracy[epoch][1]:.3f}", flush=True)

    def compare(epoch, a, b):
        out = run([BIN, "audit-compare", os.path.join(WORK, f"epoch{epoch}-{a}.jsonl"),
                   os.path.join(WORK, f"epoch{epoch}-{b}.jsonl"), "--json"])
        return json.loads(out)

    def median_distance(epoch, group):
        seen = {}
        for r in results[(epoch, group)]:
            seen[r["point"]] = r["boundary_distance"]
        return float(np.median(list(seen.values())))

    def counts(epoch, group, radius):
        return [r["regions"] for r in results[(epoch, group)] if r["radius"] == radius and r["complete"]]

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(os.path.join(DOCS, "img"), exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for group in groups:
        ax.plot(EPOCHS, [median_distance(e, group) for e in EPOCHS], marker="o", label=group)
    ax.set_xscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("median distance to nearest region boundary")
    ax.legend()
    ax.set_title("(a) boundary distance vs training")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "img", "findings_distance.png"), dpi=120)

    final = max(EPOCHS)
    fig, ax = plt.subplots(figsize=(6, 4))
    for group in groups:
        ax.plot(RADII, [np.median(counts(final, group, r)) if counts(final, group, r) else np.nan for r in RADII],
                marker="o", label=group)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("radius (L2, pixels scaled to [0,1])")
    ax.set_ylabel("median exact region count")
    ax.legend()
    ax.set_title(f"(b) regions per ball, epoch {final}")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "img", "findings_counts.png"), dpi=120)

    # Finding 1: train-point boundary distance, first vs last snapshot.
    d_first = [r["boundary_distance"] for r in results[(EPOCHS[0], "train")] if r["radius"] == RADII[0]]
    d_last = [r["boundary_distance"] for r in results[(final, "train")] if r["radius"] == RADII[0]]
    lines = [
        "# The paper's findings, checked with exact counts",
        "",
        f"Produced by `python3 scripts/paper_findings.py` with {version}. Data: scikit-learn's 8x8 digits "
        f"(1,797 images, pixels scaled to [0,1]), 70/30 split (seed 0). Network: 64-32-32-10 ReLU MLP, Adam "
        f"(lr 1e-3, batch 64, seed 0). {PER_GROUP} points per group; L2 balls of radii {RADII}; "
        f"exact counts by `regionwalk audit --exact` (walks stopped at {MAX_REGIONS} regions are excluded from "
        "the count statistics and reported below).",
        "",
        "| epoch | train acc. | test acc. | " + " | ".join(f"median dist. {g}" for g in groups) + " |",
        "|---|---|---|" + "---|" * len(groups),
    ]
    for e in EPOCHS:
        lines.append(f"| {e} | {accuracy[e][0]:.3f} | {accuracy[e][1]:.3f} | "
                     + " | ".join(f"{median_distance(e, g):.4f}" for g in groups) + " |")
    lines += ["", "![boundary distance vs epoch](img/findings_distance.png)", ""]
    from_mw = compare(final, "train", "uniform")
    lines += ["## Finding 1: boundaries move away from training points", ""]
    trend = median_distance(final, "train") / median_distance(EPOCHS[0], "train")
    lines.append(f"Median distance from a training point to its region's boundary: "
                 f"{median_distance(EPOCHS[0], 'train'):.4f} at epoch {EPOCHS[0]}, "
                 f"{median_distance(final, 'train'):.4f} at epoch {final} (x{trend:.2f}).")
    with open(os.path.join(WORK, "d_first.jsonl"), "w") as f:
        for i, d in enumerate(d_first):
            f.write(json.dumps({"point": i, "label": None, "radius": 1.0, "norm": "l2", "regions": None, "complete": None,
                                "boundary_distance": d, "boundary_neuron": None, "paper": None, "best": None, "seconds": 0}) + "\n")
    with open(os.path.join(WORK, "d_last.jsonl"), "w") as f:
        for i, d in enumerate(d_last):
            f.write(json.dumps({"point": i, "label": None, "radius": 1.0, "norm": "l2", "regions": None, "complete": None,
                                "boundary_distance": d, "boundary_neuron": None, "paper": None, "best": None, "seconds": 0}) + "\n")
    from_first_last = json.loads(run([BIN, "audit-compare", os.path.join(WORK, "d_first.jsonl"), os.path.join(WORK, "d_last.jsonl"), "--json"]))
    p1 = from_first_last["boundary_distance"]["p_value"]
    others = ", ".join(f"{g} x{median_distance(final, g) / median_distance(EPOCHS[0], g):.2f}" for g in groups if g != "train")
    lines.append(f"Over the same epochs the other groups' median distances changed by: {others}. "
                 "A growth specific to training points would show a larger factor for `train` than for the "
                 "random groups.")
    lines.append("")
    lines.append(f"Mann-Whitney U, epoch {EPOCHS[0]} vs epoch {final} (training points): p = {p1:.3g}. "
                 + ("**Holds here**: distances grew significantly (p < 0.05)." if trend > 1 and p1 < 0.05 else
                    "Grew, but not significantly at p < 0.05." if trend > 1 else
                    "**Does not hold here**: distances did not grow."))
    lines += ["", "## Finding 2: more regions around training points than around arbitrary points", "",
              "![region counts](img/findings_counts.png)", "",
              f"Epoch {final}, median exact region count per ball (n complete):", "",
              "| radius | " + " | ".join(groups) + " | p train vs uniform | p train vs gaussian | p train vs test |",
              "|---|" + "---|" * (len(groups) + 3)]
    mw = {g: compare(final, "train", g) for g in ["uniform", "gaussian", "test"]}
    verdicts = []
    for i, r in enumerate(RADII):
        cells = []
        for g in groups:
            c = counts(final, g, r)
            cells.append(f"{np.median(c):.1f} ({len(c)})" if c else "- (0)")
        ps = [next(v["regions"]["p_value"] for v in mw[g]["per_radius"] if v["radius"] == r) for g in ["uniform", "gaussian", "test"]]
        lines.append(f"| {r} | " + " | ".join(cells) + " | " + " | ".join("-" if p is None else f"{p:.3g}" for p in ps) + " |")
        tr, un = counts(final, "train", r), counts(final, "uniform", r)
        if tr and un:
            verdicts.append((r, np.median(tr) > np.median(un), ps[0]))
    incomplete = sum(1 for k, v in results.items() for r in v if r["complete"] is False)
    lines += ["", f"Walks stopped by the {MAX_REGIONS}-region budget (excluded above): {incomplete}.", ""]
    holds = [v for v in verdicts if v[1] and v[2] is not None and v[2] < 0.05]
    lines.append("**Verdict.** " + (
        f"Training points hold more regions than uniform random points at {len(holds)} of {len(verdicts)} radii "
        "(median higher and p < 0.05)." if verdicts else "No radius had complete counts for both groups."))
    lines += ["", "Boundary distances at the final epoch, training vs uniform points: "
              f"p = {from_mw['boundary_distance']['p_value']:.3g} (median train "
              f"{median_distance(final, 'train'):.4f}, uniform {median_distance(final, 'uniform'):.4f}).", "",
              ]
    lines += deeper_section(x_train, y_train, x_test, y_test, groups)
    lines += security_sections(mlp, x_train, y_train, x_test, y_test, compare_files)
    lines += mnist_section()
    with open(os.path.join(DOCS, "paper-findings.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote docs/paper-findings.md")


SECURITY_RADII = [0.02, 0.05, 0.1]
DEEP = (32, 32, 32, 32)
# The deeper network has many more regions per ball early in training: radius 0.1 does not finish quickly.
DEEP_RADII = [0.01, 0.02, 0.05]


def deeper_section(x_train, y_train, x_test, y_test, groups):
    """Both findings again on a deeper network (64-32-32-32-32-10), training vs uniform points."""
    import warnings
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(hidden_layer_sizes=DEEP, activation="relu", solver="adam", learning_rate_init=1e-3,
                        batch_size=64, max_iter=1, warm_start=True, random_state=0)
    reports = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(1, max(EPOCHS) + 1):
            mlp.fit(x_train, y_train)
            if epoch in (EPOCHS[0], max(EPOCHS)):
                net = os.path.join(WORK, f"deep-epoch{epoch}.json")
                save_network(mlp, net)
                for g in ("train", "uniform"):
                    reports[(epoch, g)] = audit_points(net, groups[g], f"deep-epoch{epoch}-{g}", DEEP_RADII, ["--exact"])
    first, last = EPOCHS[0], max(EPOCHS)
    arch = "-".join(["64", *map(str, DEEP), "10"])
    lines = [f"## Both findings on a deeper network ({arch})", "",
             f"Adam, {last} epochs: train accuracy {mlp.score(x_train, y_train):.3f}, test {mlp.score(x_test, y_test):.3f}.", ""]
    lines += pair_rows(f"training points, epoch {last} vs {first}", f"epoch {last}", f"epoch {first}",
                       compare_files(reports[(last, "train")], reports[(first, "train")]), [])
    lines += ["", *pair_rows(f"epoch {last}", "train", "uniform", compare_files(reports[(last, "train")], reports[(last, "uniform")]), DEEP_RADII), ""]
    return lines


def compare_files(a, b):
    return json.loads(run([BIN, "audit-compare", a, b, "--json"]))


def audit_points(net, points, name, radii, extra=()):
    path = os.path.join(WORK, f"{name}.csv")
    np.savetxt(path, points, delimiter=",")
    out = os.path.join(WORK, f"{name}.jsonl")
    run([BIN, "audit", net, "--points", path, "--radius", ",".join(map(str, radii)), "--max-regions", str(MAX_REGIONS),
         "--out", out, "--quiet", *extra])
    return out


def gradient(mlp, x, y):
    """Gradient of the cross-entropy loss with respect to the input, by hand through the ReLU MLP."""
    hs, zs = [x], []
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        z = hs[-1] @ w + b
        zs.append(z)
        hs.append(np.maximum(z, 0) if i < len(mlp.coefs_) - 1 else z)
    logits = hs[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    g = p.copy()
    g[np.arange(len(y)), y] -= 1.0
    for i in range(len(mlp.coefs_) - 1, -1, -1):
        if i < len(mlp.coefs_) - 1:
            g = g * (zs[i] > 0)
        g = g @ mlp.coefs_[i].T
    return g


def pgd(mlp, x, y, eps, norm, steps=40):
    """Projected gradient ascent on the loss within the eps-ball (L-inf or L2) and the pixel box [0, 1]."""
    adv = x.copy()
    alpha = eps / 8
    for _ in range(steps):
        g = gradient(mlp, adv, y)
        if norm == "linf":
            adv = np.clip(adv + alpha * np.sign(g), x - eps, x + eps)
        else:
            adv = adv + alpha * g / (np.linalg.norm(g, axis=1, keepdims=True) + 1e-12)
            d = adv - x
            n = np.linalg.norm(d, axis=1, keepdims=True)
            adv = x + d * np.minimum(1.0, eps / (n + 1e-12))
        adv = np.clip(adv, 0.0, 1.0)
    return adv


def pair_rows(title, a_name, b_name, cmp, radii):
    rows = [f"| {title} | median {a_name} | median {b_name} | p (Mann-Whitney U) |", "|---|---|---|---|"]
    d = cmp["boundary_distance"]
    med = lambda v, k: "-" if v[k] is None else f"{v[k]['median']:.4g}"
    rows.append(f"| boundary distance | {med(d, 'a')} | {med(d, 'b')} | {d['p_value']:.3g} |")
    significant = ["boundary distance"] if d["p_value"] is not None and d["p_value"] < 0.05 else []
    for v in cmp["per_radius"]:
        if v["radius"] in radii:
            r = v["regions"]
            p = "-" if r["p_value"] is None else f"{r['p_value']:.3g}"
            rows.append(f"| regions at r = {v['radius']} | {med(r, 'a')} | {med(r, 'b')} | {p} |")
            if r["p_value"] is not None and r["p_value"] < 0.05:
                significant.append(f"regions at r = {v['radius']}")
    rows += ["", f"In plain words: {a_name} vs {b_name} differ significantly (p < 0.05) in "
             + (", ".join(significant) if significant else "nothing measured here") + "."]
    return rows


def security_sections(mlp, x_train, y_train, x_test, y_test, compare):
    import warnings
    from sklearn.neural_network import MLPClassifier

    net = os.path.join(WORK, f"epoch{max(EPOCHS)}.json")
    rng = np.random.default_rng(1)
    correct = np.flatnonzero(mlp.predict(x_test) == y_test)
    idx = rng.choice(correct, PER_GROUP, replace=False)
    clean, labels = x_test[idx], y_test[idx]
    lines = ["", "## Adversarial examples (PGD) against the final digits network", ""]
    for norm, eps in [("linf", 0.1), ("l2", 1.0)]:
        adv = pgd(mlp, clean, labels, eps, norm)
        fooled = mlp.predict(adv) != labels
        lines.append(f"PGD ({norm}, eps = {eps}, 40 steps): {fooled.sum()} of {PER_GROUP} correctly classified test "
                     f"points misclassified after the attack.")
        if fooled.sum() < 3:
            lines += ["Too few successful attacks to compare.", ""]
            continue
        adv_report = audit_points(net, adv[fooled], f"adv-{norm}", SECURITY_RADII)
        clean_subset = audit_points(net, clean[fooled], f"adv-clean-{norm}", SECURITY_RADII)
        lines += ["", *pair_rows(f"{norm} attack", "adversarial", "clean source", compare(adv_report, clean_subset), SECURITY_RADII), ""]

    # Backdoor: a 2x2 bright patch in the bottom-right corner flips the label to 0.
    trigger = [54, 55, 62, 63]
    def stamp(x):
        x = x.copy()
        x[:, trigger] = 1.0
        return x
    poison = rng.choice(len(x_train), int(0.05 * len(x_train)), replace=False)
    xp, yp = x_train.copy(), y_train.copy()
    xp[poison] = stamp(xp[poison])
    yp[poison] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = MLPClassifier(hidden_layer_sizes=(32, 32), activation="relu", solver="adam", learning_rate_init=1e-3,
                            batch_size=64, max_iter=max(EPOCHS), random_state=0).fit(xp, yp)
    not_zero = np.flatnonzero(y_test != 0)
    success = (bad.predict(stamp(x_test[not_zero])) == 0).mean()
    bad_net = os.path.join(WORK, "backdoored.json")
    save_network(bad, bad_net)
    sample = x_test[rng.choice(not_zero, PER_GROUP, replace=False)]
    triggered = stamp(sample)
    lines += ["## Backdoor trigger", "",
              f"A 2x2 patch (pixels {trigger} set to 1) relabels 5% of the training set as 0. The backdoored network's "
              f"clean test accuracy is {bad.score(x_test, y_test):.3f} (clean network {mlp.score(x_test, y_test):.3f}); "
              f"the trigger turns {success:.1%} of non-zero test digits into 0.", ""]
    trig_bad = audit_points(bad_net, triggered, "bd-triggered", SECURITY_RADII)
    clean_bad = audit_points(bad_net, sample, "bd-clean", SECURITY_RADII)
    trig_clean_net = audit_points(net, triggered, "bd-triggered-cleannet", SECURITY_RADII)
    lines += [*pair_rows("backdoored network", "triggered", "clean", compare(trig_bad, clean_bad), SECURITY_RADII), "",
              *pair_rows("triggered inputs", "backdoored net", "clean net", compare(trig_bad, trig_clean_net), SECURITY_RADII), ""]
    return lines


def mnist_section():
    data = np.loadtxt(os.path.join(ROOT, "fixtures", "datasets", "eran_mnist_test_first100.csv"), delimiter=",")
    pts = data[:12, 1:] / 255.0
    net = os.path.join(ROOT, "fixtures", "mnist_fc", "onnx", "mnist-net_256x2.onnx")
    exact = audit_points(net, pts, "mnist-exact", [0.01, 0.03], ["--exact"])
    bounds = audit_points(net, pts, "mnist-bounds", [0.01, 0.03, 0.1, 0.3], ["--bounds-only"])
    with open(exact) as f:
        ex = [json.loads(l) for l in f]
    with open(bounds) as f:
        bd = [json.loads(l) for l in f]
    lines = ["## A second, larger case: MNIST 784-256-256-10 (VNN-COMP mnistfc)", "",
             "First 12 test images of the bundled MNIST points; exact counts where the walk finishes quickly, "
             "bounds (log10 medians) at larger radii.", "",
             "| radius | median exact count | median log10 paper bound | median log10 best bound |", "|---|---|---|---|"]
    for r in [0.01, 0.03, 0.1, 0.3]:
        counts = [x["regions"] for x in ex if x["radius"] == r and x["complete"]]
        paper = [np.log10(float(x["paper"])) for x in bd if x["radius"] == r and x["paper"]]
        best = [np.log10(float(x["best"])) for x in bd if x["radius"] == r and x["best"]]
        lines.append(f"| {r} | {np.median(counts) if counts else '-'} | {np.median(paper):.2f} | {np.median(best):.2f} |")
    dist = sorted({x["point"]: x["boundary_distance"] for x in ex}.values())
    lines += ["", f"Median distance from these test images to the nearest region boundary: {np.median(dist):.4g} "
              "(pixels in [0, 1], L2).", "",
              "Exact counts on this network at 10²–10⁴ regions per ball, against uniform and Gaussian points and "
              "PGD adversarial examples: [paper-findings-mnist.md](paper-findings-mnist.md) "
              "(`scripts/paper_findings_mnist.py`).", ""]
    return lines


if __name__ == "__main__":
    sys.exit(main())
