"""The statistical estimate from Python: labelled as such, beside a certified bracket that holds,
the same numbers as the CLI's, reproducible with a seed, and unbiased on small networks."""

from __future__ import annotations

import numpy as np
import pytest

import regionwalk as rw
from conftest import cli_json, point_arg, random_net


def test_estimate_is_labelled_bracketed_and_matches_the_cli(tmp_path):
    rng = np.random.default_rng(3)
    net = random_net(rng, [3, 12, 12, 1])
    x = rng.uniform(-0.5, 0.5, 3)
    e = rw.estimate(net, x, 0.6, probes=300, seed=5)
    exact = rw.count(net, x, 0.6).regions
    assert e.kind == "statistical" and e.probes == 300
    assert e.lower <= exact <= e.upper
    assert e.estimate_low <= e.estimate <= e.estimate_high
    model = tmp_path / "net.json"
    net.save(model)
    cli = cli_json("estimate", str(model), point_arg(x), "--radius", "0.6", "--probes", "300", "--seed", "5")
    for key in e.report:
        if key != "seconds":
            assert cli[key] == e.report[key], key
    again = rw.estimate(net, x, 0.6, probes=300, seed=5, threads=1)
    assert (again.estimate, again.estimate_low, again.estimate_high) == (e.estimate, e.estimate_low, e.estimate_high)


def test_estimates_average_to_the_exact_count():
    rng = np.random.default_rng(11)
    z = []
    for _ in range(25):
        net = random_net(rng, [2, 8, 8, 1], degenerate=bool(rng.integers(2)))
        x = rng.uniform(-0.5, 0.5, 2)
        exact = rw.count(net, x, 0.8).regions
        e = rw.estimate(net, x, 0.8, probes=300, seed=int(rng.integers(1 << 30)))
        z.append(0.0 if e.standard_error == 0 else (e.estimate - exact) / e.standard_error)
    assert abs(np.mean(z)) < 4 / np.sqrt(len(z)), z


def test_bad_estimate_options_are_refused():
    net = rw.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    with pytest.raises(ValueError, match="at least one probe"):
        rw.estimate(net, [0.0, 0.0], 1.0, probes=0)
    with pytest.raises(ValueError, match="confidence"):
        rw.estimate(net, [0.0, 0.0], 1.0, confidence=1.5)
