"""Arrays, errors, budgets, threads, Ctrl-C, progress and pictures."""

from __future__ import annotations

import _thread
import signal
import threading
import time

import numpy as np
import pytest

import regionwalk as rw
from conftest import FIXTURES, random_net

EXAMPLE = FIXTURES / "examples" / "mlp_2x16x16.json"
CARTPOLE = FIXTURES / "small" / "vnncomp22_rl" / "cartpole.onnx"


def layers(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 3)), rng.standard_normal(8)), (rng.standard_normal((8, 8)), rng.standard_normal(8)),
            (rng.standard_normal((2, 8)), rng.standard_normal(2))]


def reference():
    return rw.count(rw.Network.from_layers(layers()), [0.1, 0.2, -0.1], 1.5, patterns=True)


# Arrays --------------------------------------------------------------------------------------


def test_layouts_and_exact_dtypes_give_identical_results():
    ref = reference()
    fortran = [(np.asfortranarray(w), b) for w, b in layers()]
    strided = []
    for w, b in layers():
        big = np.zeros((w.shape[0] * 2, w.shape[1] * 3))
        big[::2, ::3] = w
        bb = np.zeros(b.shape[0] * 2)
        bb[::2] = b
        strided.append((big[::2, ::3], bb[::2]))
    # Negative strides: views that run backwards through reversed copies.
    reversed_rows = [(w[::-1, ::-1].copy()[::-1, ::-1], b[::-1].copy()[::-1]) for w, b in layers()]
    assert reversed_rows[0][0].strides[0] < 0
    for variant in (fortran, strided, reversed_rows):
        r = rw.count(rw.Network.from_layers(variant), [0.1, 0.2, -0.1], 1.5, patterns=True)
        assert r.report["regions"] == ref.regions and (r.patterns == ref.patterns).all()
    # float32 centres widen exactly: the same as passing the widened float64 values.
    c32 = np.array([0.1, 0.2, -0.1], dtype=np.float32)
    net = rw.Network.from_layers(layers())
    a = rw.count(net, c32, 1.5).report
    b = rw.count(net, c32.astype(np.float64), 1.5).report
    assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    # Integers that float64 holds exactly are fine.
    assert rw.count(net, np.array([0, 0, 0]), 1).regions == rw.count(net, [0.0, 0.0, 0.0], 1.0).regions


def test_arrays_that_would_change_value_are_refused():
    net = rw.Network.from_layers(layers())
    with pytest.raises(TypeError, match="complex"):
        rw.count(net, np.array([0.1, 0.2, 0.3], dtype=complex), 1.0)
    with pytest.raises(TypeError, match="dtype"):
        rw.count(net, ["a", "b", "c"], 1.0)
    with pytest.raises(ValueError, match="cannot hold exactly"):
        rw.Network.from_layers([(np.array([[2**60 + 1]], dtype=np.int64), np.zeros(1))])
    with pytest.raises(ValueError, match="2-D"):
        rw.Network.from_layers([(np.zeros(3), np.zeros(3))])
    with pytest.raises(TypeError, match="radius"):
        rw.count(net, [0, 0, 0], "1")


# Errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda n: rw.count(n, [0.1, np.nan, 0.0], 1.0), ValueError, "coordinate 1 is NaN"),
        (lambda n: rw.count(n, [0.1, 0.0, 0.0], 0.0), ValueError, "radius must be a positive"),
        (lambda n: rw.count(n, [0.1, 0.0, 0.0], -2.0), ValueError, "radius must be a positive"),
        (lambda n: rw.count(n, [0.1, 0.0], 1.0), ValueError, "has 2 coordinates but the network has 3 inputs"),
        (lambda n: rw.count(n, [0.0, 0.0, 0.0], 1.0, norm="l3"), ValueError, "unknown norm 'l3'"),
        (lambda n: rw.count(n, [0.0, 0.0, 0.0], 1.0, max_regions=0), ValueError, "max_regions: .*at least 1"),
        (lambda n: rw.count(n, [0.0, 0.0, 0.0], 1.0, time_limit=-1), ValueError, "time_limit: .*must be a positive"),
        (lambda n: rw.count(n, [0.0, 0.0, 0.0], 1.0, threads=0), ValueError, "threads must be at least 1"),
        (lambda n: rw.bound(n, [0.0, 0.0, 0.0], 1.0, methods=["magic"]), ValueError, "unknown method 'magic'"),
        (lambda n: rw.bound(n, [0.0, 0.0, 0.0]), ValueError, "both center and radius"),
        (lambda n: rw.count_box(n, [0, 0, 0], [1, 1]), ValueError, "the box has 3 lower and 2 upper bounds"),
        (lambda n: rw.count_box(n, [0, 0, 0], [0, 0, 0]), ValueError, "single point"),
        (lambda n: rw.count_box(n, [1, 0, 0], [0, 1, 1]), ValueError, "not a finite non-empty interval"),
        (lambda n: rw.count_box(n), ValueError, "declares no input box"),
        (lambda n: rw.audit(n, np.zeros((2, 3)), [0.0]), ValueError, "every radius must be a positive"),
        (lambda n: rw.audit(n, np.zeros((2, 4)), [0.1]), ValueError, "point 0"),
        (lambda n: rw.count(n, [0.0, 0.0, 0.0], 1.0, resume="/nonexistent.ckpt"), ValueError, "nonexistent.ckpt: cannot read"),
    ],
)
def test_bad_input_raises_with_the_cli_message(call, error, message):
    net = rw.Network.from_layers(layers())
    with pytest.raises(error, match=message):
        call(net)


@pytest.mark.parametrize(
    "path, message",
    [
        ("malformed/unknown_op.onnx", "node 'squash' \\(Sigmoid\\): unsupported op 'Sigmoid'"),
        ("malformed/nan_weight.onnx", "NaN"),
        ("malformed/truncated.onnx", "truncated.onnx"),
        ("does/not/exist.onnx", "exist.onnx"),
    ],
)
def test_malformed_model_files_raise_value_errors_naming_the_problem(path, message):
    with pytest.raises(ValueError, match=message):
        rw.Network.from_file(FIXTURES / path)


def test_malformed_layers_raise_value_errors():
    with pytest.raises(ValueError, match="layer 1 expects 4 inputs but layer 0 has 3 outputs"):
        rw.Network.from_layers([(np.zeros((3, 2)), np.zeros(3)), (np.zeros((1, 4)), np.zeros(1))])
    with pytest.raises(ValueError, match=r"weight\[0\]\[1\] is inf"):
        rw.Network.from_layers([(np.array([[0.0, np.inf]]), np.zeros(1))])


def test_no_panic_crosses_into_python():
    with pytest.raises(rw.InternalError, match="deliberate test panic"):
        rw._native._panic_for_test()
    assert issubclass(rw.InternalError, rw.RegionwalkError) and issubclass(rw.SolverError, rw.RegionwalkError)


def test_errors_keep_their_kind(tmp_path):
    assert issubclass(rw.TimeLimit, TimeoutError)
    net = rw.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    # A report that cannot be written is an OSError naming the file, not bad input.
    with pytest.raises(OSError, match="report.jsonl"):
        rw.audit(net, np.zeros((1, 2)), 0.5, out=tmp_path / "no" / "such" / "report.jsonl")
    # Bad settings stay ValueError.
    with pytest.raises(ValueError, match="invalid setting"):
        rw.audit(net, np.zeros((1, 2)), [])


# Budgets, checkpoints ---------------------------------------------------------------------------


def test_budgets_give_certified_lower_bounds(tmp_path):
    net = rw.Network.from_file(CARTPOLE)
    full = rw.count(net, [0, 0, 0, 0], 0.4, patterns=True)
    part = rw.count(net, [0, 0, 0, 0], 0.4, max_regions=50, patterns=True)
    assert not part.complete and part.stopped_by == "max_regions" and 50 <= part.regions < full.regions
    found = {p.tobytes() for p in full.patterns}
    assert all(p.tobytes() in found for p in part.patterns)
    # Checkpoint and resume finish the count.
    ckpt = tmp_path / "walk.ckpt"
    rw.count(net, [0, 0, 0, 0], 0.4, max_regions=50, checkpoint=ckpt)
    resumed = rw.count(net, [0, 0, 0, 0], 0.4, resume=ckpt)
    assert resumed.complete and resumed.regions == full.regions


def test_witnesses_lie_in_their_regions_and_in_the_ball():
    net = rw.Network.from_file(EXAMPLE)
    r = rw.count(net, [0.1, -0.2], 0.5, patterns=True, witnesses=True, certify=True)
    assert r.certified == r.regions
    for p, w in zip(r.patterns, r.witnesses):
        assert np.linalg.norm(w - [0.1, -0.2]) < 0.5
        assert (np.concatenate(net.eval(w).pattern) == p).all()


def test_solver_tallies_are_reported_and_reused_refutations_count():
    """In 16-D the walk asks the dual solver and reuses its refutations; the result says so, with
    the same figures as the CLI's report."""
    rng = np.random.default_rng(5)
    net = random_net(rng, [16, 32, 32, 1])
    r = rw.count(net, rng.uniform(-0.3, 0.3, 16), 0.01, norm="linf")
    assert r.regions > 50
    assert r.dual_solves == r.report["dual_solves"] > 0
    assert r.reused_refutations == r.report["reused_refutations"] > 0


# Threads, GIL, Ctrl-C, progress -----------------------------------------------------------------


def slow_case():
    """A walk of a few hundred milliseconds or more."""
    return rw.Network.from_file(CARTPOLE), [0.0, 0.0, 0.0, 0.0], 0.6


def test_two_python_threads_count_at_once_and_agree_with_serial_runs():
    cases = [(rw.Network.from_file(CARTPOLE), [0.0, 0.0, 0.0, 0.0], 0.3),
             (rw.Network.from_file(EXAMPLE), [0.1, -0.2], 0.7)]
    serial = [rw.count(n, c, r, threads=1).report for n, c, r in cases]
    results = [None, None]

    def work(i):
        n, c, r = cases[i]
        results[i] = rw.count(n, c, r, threads=1).report

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join(timeout=300) for t in threads]
    for got, want in zip(results, serial):
        assert got is not None
        assert {k: v for k, v in got.items() if k != "seconds"} == {k: v for k, v in want.items() if k != "seconds"}


def test_the_gil_is_released_during_a_walk():
    net, c, r = slow_case()
    done = threading.Event()
    result = {}

    def work():
        result["count"] = rw.count(net, c, r, threads=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks = 0
    while not done.is_set():
        ticks += 1  # would stall for the whole walk if the walk held the GIL
        time.sleep(0.001)
    t.join()
    assert result["count"].complete
    assert ticks > 20, f"the main thread ran only {ticks} times during a {result['count'].seconds:.2f} s walk"


def test_ctrl_c_stops_a_walk_with_its_partial_result():
    net, c, r = slow_case()
    full = rw.count(net, c, r, patterns=True)
    # Python turns SIGINT into KeyboardInterrupt only if SIGINT was not ignored when it started
    # (a test runner started in the background inherits SIG_IGN, and interrupt_main then does
    # nothing): install the usual handler for this test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.15, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as raised:
            rw.count(net, c, r, patterns=True, time_limit=60)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    caught = raised.value
    assert isinstance(caught, rw.Interrupted) and isinstance(caught, rw.RegionwalkError)
    partial = caught.result
    assert not partial.complete and partial.stopped_by == "interrupted"
    assert 0 < partial.regions < full.regions
    found = {p.tobytes() for p in full.patterns}
    assert all(p.tobytes() in found for p in partial.patterns)


def test_progress_callbacks_are_called_and_their_errors_stop_the_walk():
    net, c, r = slow_case()
    seen = []
    rw.count(net, c, r, threads=1, progress=lambda regions, frontier, lps: seen.append(regions))
    assert seen and seen == sorted(seen)

    def fail(*_):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        rw.count(net, c, r, threads=1, progress=fail)


def test_progress_true_draws_a_tqdm_bar(capsys):
    pytest.importorskip("tqdm")
    net, c, r = slow_case()
    rw.count(net, c, r, threads=1, progress=True)
    assert "regions" in capsys.readouterr().err


# Audits, pictures -------------------------------------------------------------------------------


def test_audit_resumes_without_recomputing(tmp_path):
    rng = np.random.default_rng(1)
    net = random_net(rng, [3, 8, 8, 1])
    points = rng.standard_normal((12, 3))
    out = tmp_path / "a.jsonl"
    full = rw.audit(net, points, [0.2, 0.5], out=out, as_frame=False)
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:7]) + "\n" + lines[7][:10])  # a run killed mid-line
    resumed = rw.audit(net, points, [0.2, 0.5], out=out, resume=True, as_frame=False)
    assert resumed["regions"].tolist() == full["regions"].tolist()
    assert len(out.read_text().splitlines()) == 24
    # The first seven rows were kept from the file, not recomputed (their times are the old ones).
    kept = {(r["point"], r["radius"]): r["seconds"] for r in map(__import__("json").loads, lines[:7])}
    times = {(p, r): s for p, r, s in zip(resumed["point"], resumed["radius"], resumed["seconds"])}
    assert all(times[k] == v for k, v in kept.items())


def test_audit_returns_a_dataframe_when_pandas_is_installed():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    net = random_net(rng, [2, 6, 1])
    df = rw.audit(net, rng.standard_normal((5, 2)), 0.3, methods=[])
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(rw.AUDIT_COLUMNS) and len(df) == 5
    assert all(v is None for v in df["paper"])


def test_plot_writes_pictures_and_returns_a_figure(tmp_path):
    net = rw.Network.from_file(EXAMPLE)
    for name in ("slice.png", "slice.svg"):
        assert rw.plot(net, [0.1, -0.2], 0.5, out=tmp_path / name) is None
        assert (tmp_path / name).stat().st_size > 1000
    s = rw.slice_regions(net, [0.1, -0.2], 0.5)
    assert s.ball_regions == (rw.count(net, [0.1, -0.2], 0.5).regions, True)
    assert len(s.polygons) == s.ball_regions[0]  # a 2-input net: the slice is the ball itself
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    fig = rw.plot(net, [0.1, -0.2], 0.5)
    assert len(fig.axes[0].patches) == len(s.polygons)
    with pytest.raises(ValueError, match="plane"):
        rw.plot(net, [0.1, -0.2], 0.5, plane="diagonal")


def test_bound_keeps_to_its_time_budget():
    net = rw.Network.from_file(FIXTURES / "mnist_fc" / "onnx" / "mnist-net_256x2.onnx")
    x, _ = rw.load_points(FIXTURES / "datasets" / "eran_mnist_test_first100.csv", label_column="first")
    b = rw.bound(net, x[0] / 255.0, 0.05, budget=0.3)
    assert "time budget of 0.3 s" in b.skipped["hybrid"]
    # The cheap methods always run; the walk finishes in its share or is reported as skipped
    # (which one depends on the machine's load).
    assert {"global", "paper", "product", "local-serra"} <= set(b.bounds)
    if b.exact is None:
        assert "walk" in b.skipped and "walk" not in b.bounds
    else:
        assert b.bounds["walk"] == b.best[1] == b.lower == b.exact
    with pytest.raises(ValueError, match="budget must be a positive"):
        rw.bound(net, x[0] / 255.0, 0.05, budget=0)


def test_bound_reports_the_exact_count_when_its_walk_finishes():
    net = rw.Network.from_file(EXAMPLE)
    b = rw.bound(net, [0.1, -0.2], 0.5, budget=30)
    assert b.exact == b.lower == b.bounds["walk"] == rw.count(net, [0.1, -0.2], 0.5).regions
    unlimited = rw.bound(net, [0.1, -0.2], 0.5, budget=None)
    assert unlimited.exact is None and "only within a time budget" in unlimited.skipped["walk"]
