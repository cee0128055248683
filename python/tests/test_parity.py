"""Python and the CLI give the same answers on the same networks and points: counts (every field
of the report but wall time), bounds (exact integers), audit rows, graphs and evaluations."""

from __future__ import annotations

import json

import numpy as np
import pytest

import regionwalk as rw
from conftest import FIXTURES, cli_json, point_arg, random_net, run_cli, without_time

ACAS = FIXTURES / "acasxu" / "onnx" / "ACASXU_run2a_1_1_batch_2000.onnx"
CARTPOLE = FIXTURES / "small" / "vnncomp22_rl" / "cartpole.onnx"
EXAMPLE = FIXTURES / "examples" / "mlp_2x16x16.json"
NNET = FIXTURES / "small" / "marabou" / "fc_2-2-3.nnet"


def random_cases():
    rng = np.random.default_rng(7)
    cases = []
    for i in range(24):
        n0 = int(rng.integers(2, 6))
        widths = [n0] + [int(rng.integers(3, 9)) for _ in range(int(rng.integers(1, 4)))] + [2]
        cases.append((random_net(rng, widths, degenerate=i % 3 == 0), rng.standard_normal(n0) * 0.3,
                      float(rng.uniform(0.2, 1.5)), "l2" if i % 2 else "linf"))
    return cases


@pytest.mark.parametrize("case", range(24))
def test_random_counts_match_the_cli(case, tmp_path):
    net, center, radius, norm = random_cases()[case]
    path = tmp_path / "net.json"
    net.save(path)
    py = rw.count(net, center, radius, norm)
    cli = cli_json("count", str(path), point_arg(center), "--radius", repr(radius), "--norm", norm, "-q")
    assert without_time(py.report) == without_time(cli)
    assert py.regions == cli["regions"] > 0


@pytest.mark.parametrize(
    "model, args",
    [
        (EXAMPLE, ["--center=0.1,-0.2", "--radius", "0.5"]),
        (EXAMPLE, ["--center=0.1,-0.2", "--radius", "0.5", "--norm", "linf"]),
        (CARTPOLE, ["--center=0,0,0,0", "--radius", "0.3"]),
        (ACAS, ["--center=0.1,0,0,0.1,0.1", "--radius", "0.02"]),
        (NNET, ["--center=0.1,0.2", "--radius", "0.5"]),
    ],
)
def test_fixture_counts_match_the_cli(model, args):
    cli = cli_json("count", str(model), *args, "-q")
    center = [float(v) for v in args[0].split("=")[1].split(",")]
    radius = float(args[2])
    norm = args[4] if len(args) > 4 else "l2"
    py = rw.count(rw.Network.from_file(model), center, radius, norm)
    assert without_time(py.report) == without_time(cli)


def test_boxes_with_fixed_coordinates_match_the_cli(tmp_path):
    rng = np.random.default_rng(3)
    net = random_net(rng, [4, 8, 8, 2])
    path = tmp_path / "net.json"
    net.save(path)
    lower, upper = np.array([-0.5, 0.2, -0.3, -1.0]), np.array([0.5, 0.2, 0.4, 1.0])
    py = rw.count_box(net, lower, upper, witnesses=True)
    cli = cli_json("count", str(path), "--box=-0.5,0.5", "--box=0.2,0.2", "--box=-0.3,0.4", "--box=-1,1", "-q")
    assert without_time(py.report) == without_time(cli)
    assert py.report["fixed"] == [1]
    # Witnesses are points of the model's own inputs, with the fixed coordinate in place.
    assert py.witnesses.shape == (py.regions, 4)
    assert np.all(py.witnesses[:, 1] == 0.2)


def test_whole_space_and_input_box_match_the_cli():
    py = rw.count_whole(rw.Network.from_file(EXAMPLE))
    assert without_time(py.report) == without_time(cli_json("count", str(EXAMPLE), "--whole", "-q"))
    acas = rw.Network.from_file(FIXTURES / "acasxu" / "nnet" / "ACASXU_run2a_1_1_batch_2000.nnet")
    lower, upper = acas.input_box
    centre = (lower + upper) / 2
    box = (centre - 0.01 * (upper - lower), centre + 0.01 * (upper - lower))
    py = rw.count_box(acas, *box)
    cli = cli_json("count", str(FIXTURES / "acasxu" / "nnet" / "ACASXU_run2a_1_1_batch_2000.nnet"),
                   *[f"--box={float(lo)!r},{float(hi)!r}" for lo, hi in zip(*box)], "-q")
    assert without_time(py.report) == without_time(cli)


@pytest.mark.parametrize("engine", ["walk", "partition"])
def test_both_exact_engines_match_the_cli_and_each_other(engine, tmp_path):
    rng = np.random.default_rng(5)
    net = random_net(rng, [3, 10, 10, 10, 2], degenerate=True)
    path = tmp_path / "net.json"
    net.save(path)
    lower, upper = -0.6 * np.ones(3), 0.6 * np.ones(3)
    py = rw.count_box(net, lower, upper, patterns=True, engine=engine)
    cli = cli_json("count", str(path), "--box=-0.6,0.6", "--engine", engine, "-q")
    assert without_time(py.report) == without_time(cli)
    assert py.engine == engine
    auto = rw.count_box(net, lower, upper, patterns=True)
    assert auto.engine == "partition" and auto.regions == py.regions > 20
    assert sorted(map(bytes, auto.patterns)) == sorted(map(bytes, py.patterns))
    assert rw.count(net, np.zeros(3), 0.6, "l2").engine == "walk"


def test_the_whole_space_of_one_hidden_layer_is_an_arrangement_matching_the_cli_and_the_walk(tmp_path):
    rng = np.random.default_rng(6)
    net = random_net(rng, [4, 9, 2], degenerate=True)
    path = tmp_path / "net.json"
    net.save(path)
    py = rw.count(net, whole=True, patterns=True)
    cli = cli_json("count", str(path), "--whole", "-q")
    assert without_time(py.report) == without_time(cli)
    assert py.engine == "arrangement" and py.complete
    walked = rw.count(net, whole=True, patterns=True, engine="walk")
    assert walked.engine == "walk" and walked.regions == py.regions > 20
    assert sorted(map(bytes, walked.patterns)) == sorted(map(bytes, py.patterns))


def test_an_unknown_engine_or_one_that_cannot_count_the_domain_is_refused():
    net = rw.Network.from_file(EXAMPLE)
    with pytest.raises(ValueError, match="unknown engine 'dfs'"):
        rw.count(net, [0.1, -0.2], 0.5, engine="dfs")
    with pytest.raises(Exception, match="box partition"):
        rw.count(net, [0.1, -0.2], 0.5, "l2", engine="partition")
    with pytest.raises(Exception, match="arrangement engine"):
        rw.count(net, whole=True, engine="arrangement")  # two hidden layers


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_bounds_match_the_cli_as_exact_integers(norm):
    net = rw.Network.from_file(FIXTURES / "mnist_fc" / "onnx" / "mnist-net_256x2.onnx")
    x = np.linspace(0, 1, 784)
    methods = ["global", "paper", "product", "local-serra"]
    # No time budget: what the lower bound's walk finds in a budget depends on the machine's speed.
    py = rw.bound(net, x, 0.05, norm, methods=methods, budget=None)
    cli = cli_json("bound", str(FIXTURES / "mnist_fc" / "onnx" / "mnist-net_256x2.onnx"), point_arg(x), "--radius",
                   "0.05", "--norm", norm, *[f"--method={m}" for m in methods], "--budget", "inf")
    assert without_time(py.report) == without_time(cli)
    for b in cli["bounds"]:
        value = py.bounds[b["method"]]
        assert type(value) is int and str(value) == b["value"]
    # The global bound of a 784-256-256 net is far beyond 64 bits: the ints are exact.
    assert py.bounds["global"] > 2**64
    assert py.best == (cli["best"]["method"], int(cli["best"]["value"]))


def test_validate_matches_the_cli(tmp_path):
    rng = np.random.default_rng(11)
    net = random_net(rng, [3, 6, 6, 1])
    path = tmp_path / "net.json"
    net.save(path)
    py = rw.validate(net, [0.1, 0.0, -0.1], 0.8, linear=True)
    cli = cli_json("validate", str(path), "--center=0.1,0,-0.1", "--radius", "0.8", "--linear", "-q")
    assert without_time(py.report) == without_time(cli)
    assert all(py.bounds.bounds[m] >= py.count.regions for m in py.bounds.bounds)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_audit_rows_match_the_cli(tmp_path, fmt):
    rng = np.random.default_rng(5)
    net = random_net(rng, [3, 8, 8, 2], degenerate=True)
    path = tmp_path / "net.json"
    net.save(path)
    points = rng.standard_normal((30, 3))
    np.save(tmp_path / "points.npy", points)
    cli_out, py_out = tmp_path / f"cli.{fmt}", tmp_path / f"py.{fmt}"
    run_cli("audit", str(path), "--points", str(tmp_path / "points.npy"), "--radius", "0.3,0.9", "--out", str(cli_out),
            "-q")
    cols = rw.audit(net, points, [0.3, 0.9], out=py_out, as_frame=False)
    assert sorted(rw_rows(cli_out)) == sorted(rw_rows(py_out))
    # The columns hold the same values as the file.
    assert len(cols["point"]) == 60
    assert [(p, r, n) for p, r, n in zip(cols["point"], cols["radius"], cols["regions"])] == sorted_rows(py_out)


def rw_rows(path):
    """Rows of a report without the wall-time field (last CSV column / "seconds" key)."""
    lines = path.read_text().splitlines()
    if path.suffix == ".csv":
        return [",".join(l.split(",")[:-1]) for l in lines[1:]]
    return [json.dumps({k: v for k, v in json.loads(l).items() if k != "seconds"}, sort_keys=True) for l in lines]


def sorted_rows(path):
    """(point, radius, regions) of every row of a report, in point order."""
    lines = path.read_text().splitlines()
    if path.suffix == ".csv":
        rows = [(int(f[0]), float(f[2]), int(f[4])) for f in (l.split(",") for l in lines[1:])]
    else:
        rows = [(r["point"], r["radius"], r["regions"]) for r in map(json.loads, lines)]
    return sorted(rows)


def test_audit_from_a_points_file_with_labels(tmp_path):
    points = FIXTURES / "datasets" / "eran_mnist_test_first100.csv"
    net = rw.Network.from_file(FIXTURES / "mnist_fc" / "onnx" / "mnist-net_256x2.onnx")
    x, labels = rw.load_points(points, label_column="first")
    assert x.shape == (100, 784) and len(labels) == 100
    cols = rw.audit(net, x[:4] / 255.0, [0.001], exact=False, labels=labels[:4], as_frame=False)
    assert list(cols["label"]) == labels[:4]
    assert cols["regions"].dtype == object and all(v is None for v in cols["regions"])
    assert all(type(v) is int for v in cols["paper"])


def test_graph_matches_the_cli(tmp_path):
    net = rw.Network.from_file(EXAMPLE)
    out = tmp_path / "g.json"
    run_cli("graph", str(EXAMPLE), "--center=0.1,-0.2", "--radius", "0.5", "--format", "json", "--out", str(out), "-q")
    cli = json.loads(out.read_text())
    arrays = rw.graph(net, [0.1, -0.2], 0.5, as_networkx=False)
    assert arrays["edges"].tolist() == [[e["source"], e["target"]] for e in cli["edges"]]
    assert arrays["map_id"].tolist() == [n["region"]["map_id"] for n in cli["nodes"]]
    nx = pytest.importorskip("networkx")
    g = rw.graph(net, [0.1, -0.2], 0.5)
    assert isinstance(g, nx.Graph)
    assert g.number_of_nodes() == len(cli["nodes"]) and g.number_of_edges() == len(cli["edges"])
    assert nx.is_connected(g)


def test_read_graph_reads_both_graph_files(tmp_path):
    """``read_graph`` gives what ``graph`` gives, from the CLI's JSON and its streamed JSON Lines."""
    net = rw.Network.from_file(EXAMPLE)
    arrays = rw.graph(net, [0.1, -0.2], 0.9, as_networkx=False)
    for fmt in ("json", "jsonl"):
        out = tmp_path / f"g.{fmt}"
        run_cli("graph", str(EXAMPLE), "--center=0.1,-0.2", "--radius", "0.9", "--format", fmt, "--out", str(out), "-q")
        read = rw.read_graph(out, as_networkx=False)
        assert read.keys() == arrays.keys() - {"complete"}, fmt
        for key, value in read.items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(value, arrays[key]), (fmt, key)
            else:
                assert value == arrays[key], (fmt, key)
    streamed = tmp_path / "py.jsonl"
    summary = rw.graph(net, [0.1, -0.2], 0.9, out=streamed)
    assert summary.complete and summary.regions == len(arrays["map_id"])
    assert streamed.read_text() == (tmp_path / "g.jsonl").read_text(), "Python streams the CLI's file"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 0, "region": {}}\n[1, 2]\n')
    with pytest.raises(ValueError, match="line 2 is neither a graph node nor an edge"):
        rw.read_graph(bad)


def test_eval_matches_the_cli():
    net = rw.Network.from_file(CARTPOLE)
    x = [0.1, -0.2, 0.05, 0.3]
    e = net.eval(x)
    cli = cli_json("eval", str(CARTPOLE), "--point=" + ",".join(map(str, x)))
    assert e.output.tolist() == cli["output"]
    assert [p.astype(int).tolist() for p in e.pattern] == cli["pattern"]
    assert list(e.jacobian.shape) == [cli["affine_map"]["rows"], cli["affine_map"]["cols"]]
    # The local affine map reproduces the output.
    assert np.allclose(e.jacobian @ np.array(x) + e.offset, e.output, rtol=1e-12, atol=1e-12)
