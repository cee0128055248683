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
    e = rw.estimate(net, x, 0.6, probes=300, strata=4, seed=5)
    exact = rw.count(net, x, 0.6).regions
    assert e.kind == "statistical" and 1 < e.strata <= 4 and e.probes >= 300
    assert e.lower <= exact <= e.upper
    assert e.lower <= e.estimate_low <= e.estimate <= e.estimate_high <= e.upper
    model = tmp_path / "net.json"
    net.save(model)
    cli = cli_json("estimate", str(model), point_arg(x), "--radius", "0.6", "--probes", "300", "--strata", "4",
                   "--seed", "5")
    for key in e.report:
        if key != "seconds":
            assert cli[key] == e.report[key], key
    again = rw.estimate(net, x, 0.6, probes=300, strata=4, seed=5, threads=1)
    assert (again.estimate, again.estimate_low, again.estimate_high) == (e.estimate, e.estimate_low, e.estimate_high)
    # Wide probes: the same numbers as the CLI's too, and not those of Knuth's probes.
    wide = rw.estimate(net, x, 0.6, probes=60, strata=4, seed=5, width=4)
    cli = cli_json("estimate", str(model), point_arg(x), "--radius", "0.6", "--probes", "60", "--strata", "4",
                   "--seed", "5", "--width", "4")
    assert wide.width == 4 and wide.mean != e.mean
    assert {k: v for k, v in cli.items() if k != "seconds"} == {k: v for k, v in wide.report.items() if k != "seconds"}


def test_estimates_average_to_the_exact_count():
    rng = np.random.default_rng(11)
    z = []
    for _ in range(25):
        net = random_net(rng, [2, 8, 8, 1], degenerate=bool(rng.integers(2)))
        x = rng.uniform(-0.5, 0.5, 2)
        exact = rw.count(net, x, 0.8).regions
        e = rw.estimate(net, x, 0.8, probes=300, strata=1, seed=int(rng.integers(1 << 30)))
        z.append(0.0 if e.standard_error == 0 else (e.estimate - exact) / e.standard_error)
    assert abs(np.mean(z)) < 4 / np.sqrt(len(z)), z


def test_bad_estimate_options_are_refused():
    net = rw.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    with pytest.raises(ValueError, match="at least one probe"):
        rw.estimate(net, [0.0, 0.0], 1.0, probes=0)
    with pytest.raises(ValueError, match="confidence"):
        rw.estimate(net, [0.0, 0.0], 1.0, confidence=1.5)
    with pytest.raises(ValueError, match="width"):
        rw.estimate(net, [0.0, 0.0], 1.0, width=0)
    with pytest.raises(ValueError, match="stratum"):
        rw.bound(net, [0.0, 0.0], 1.0, strata=0)
    with pytest.raises(ValueError, match="at least one probe"):
        rw.audit(net, np.zeros((1, 2)), [0.5], estimate=True, probes=0)


def test_bound_and_validate_report_the_estimate_when_the_walk_does_not_finish(tmp_path):
    rng = np.random.default_rng(4)
    net = random_net(rng, [3, 14, 14, 1])
    x = rng.uniform(-0.5, 0.5, 3)
    exact = rw.count(net, x, 0.9).regions
    model = tmp_path / "net.json"
    net.save(model)
    # The cheap methods only: the bracket stays open, and an estimate is made beside it.
    kw = dict(methods=["paper", "product"], probes=200, strata=4, seed=3)
    b = rw.bound(net, x, 0.9, **kw)
    assert b.estimate is not None and b.lower <= b.estimate[1] <= b.estimate[0] <= b.estimate[2] <= b.best[1]
    flags = ["--method", "paper", "--method", "product", "--probes", "200", "--strata", "4", "--seed", "3"]
    cli = cli_json("bound", str(model), point_arg(x), "--radius", "0.9", *flags)
    for key in ("estimate", "estimate_low", "estimate_high", "estimate_reliable"):
        assert cli[key] == b.report[key], key
    assert rw.bound(net, x, 0.9, estimate=False, **kw).estimate is None
    # validate: none when the walk finishes, one when it stops at its region budget.
    assert rw.validate(net, x, 0.9, **kw).bounds.estimate is None
    v = rw.validate(net, x, 0.9, max_regions=exact // 3, **kw)
    assert not v.count.complete and v.bounds.estimate is not None
    assert v.count.regions <= v.bounds.estimate[1]
    cli = cli_json("validate", str(model), point_arg(x), "--radius", "0.9", "--max-regions", str(exact // 3), *flags,
                   expect=2)
    for key in ("estimate", "estimate_low", "estimate_high", "estimate_reliable"):
        assert cli[key] == v.report[key], key


def test_audit_estimates_the_rows_whose_walk_stops(tmp_path):
    rng = np.random.default_rng(6)
    net = random_net(rng, [2, 10, 10, 1])
    points = rng.uniform(-0.5, 0.5, (6, 2))
    rows = rw.audit(net, points, [0.1, 1.0], max_regions=8, estimate=True, probes=60, as_frame=False,
                    out=tmp_path / "a.csv")
    stopped = ~rows["complete"].astype(bool)
    assert stopped.any() and not stopped.all()
    for i in range(len(stopped)):
        has = rows["estimate"][i] is not None and not np.isnan(rows["estimate"][i])
        assert has == stopped[i]
        if has:
            assert rows["regions"][i] <= rows["estimate_low"][i] <= rows["estimate"][i] <= rows["estimate_high"][i]
    again = rw.audit(net, points, [0.1, 1.0], max_regions=8, estimate=True, probes=60, as_frame=False,
                     out=tmp_path / "a.csv", resume=True)
    np.testing.assert_array_equal(again["estimate"], rows["estimate"])
