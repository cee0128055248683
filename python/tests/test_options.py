"""Defaults and option parsing come from the library, once: the Python keyword defaults, the CLI's
help and the library agree, and names are parsed with the library's messages in both front ends."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import regionwalk as rw
import regionwalk.distributed as distributed
from conftest import run_cli

NET = rw.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])


def test_keyword_defaults_are_the_librarys():
    d = rw._native.DEFAULTS
    assert d == {"samples": 2000, "hybrid_layers": 1, "hybrid_max_regions": 2000, "budget": 0.5,
                 "audit_max_regions": 100_000, "probes": 1000, "strata": 256, "width": 1,
                 "confidence": 0.95, "compare_resamples": 2000}
    params = inspect.signature(rw.audit_compare).parameters
    assert (params["resamples"].default, params["confidence"].default) == (d["compare_resamples"], d["confidence"])
    for fn in (rw.bound, rw.validate):
        params = inspect.signature(fn).parameters
        for name in ("samples", "hybrid_layers", "hybrid_max_regions", "budget"):
            assert params[name].default == d[name], (fn.__name__, name)
    params = inspect.signature(rw.estimate).parameters
    for name in ("probes", "strata", "width", "confidence", "budget"):
        assert params[name].default == d[name], ("estimate", name)
    for fn in (rw.bound, rw.validate, rw.audit, distributed.audit):
        params = inspect.signature(fn).parameters
        for name in ("probes", "strata", "confidence"):
            assert params[name].default == d[name], (fn.__name__, name)
    for fn in (rw.audit, distributed.audit):
        params = inspect.signature(fn).parameters
        assert params["max_regions"].default == d["audit_max_regions"]
        assert params["budget"].default == d["budget"]


def test_the_cli_shows_the_same_defaults():
    help_text = run_cli("bound", "--help").stdout
    d = rw._native.DEFAULTS
    for flag, value in (("--samples", d["samples"]), ("--hybrid-max-regions", d["hybrid_max_regions"]),
                        ("--budget", d["budget"]), ("--probes", d["probes"]), ("--strata", d["strata"])):
        after = help_text[help_text.index(flag):]
        assert f"[default: {value}]" in after[:after.index("\n  -")], flag
    help_text = run_cli("audit-compare", "--help").stdout
    for flag, value in (("--resamples", d["compare_resamples"]), ("--confidence", d["confidence"])):
        after = help_text[help_text.index(flag):]
        assert f"[default: {value}]" in after[:after.index("\n  -")], flag


@pytest.mark.parametrize("call, flags, message", [
    (lambda: rw.count(NET, [0.0, 0.0], 1.0, norm="l1"), ["count", "--norm", "l1"], "unknown norm 'l1'"),
    (lambda: rw.count(NET, [0.0, 0.0], 1.0, engine="bfs"), ["count", "--engine", "bfs"], "unknown engine 'bfs'"),
    (lambda: rw.count(NET, [0.0, 0.0], 1.0, visited="bloom"), ["count", "--visited", "bloom"],
     "unknown visited-set identity 'bloom'"),
    (lambda: rw.count(NET, [0.0, 0.0], 1.0, visited="fingerprints", certify=True),
     ["count", "--visited", "fingerprints", "--certify"], "cannot be used with"),
    (lambda: rw.bound(NET, [0.0, 0.0], 1.0, methods=["magic"]), ["bound", "--method", "magic"],
     "unknown method 'magic'"),
    (lambda: rw.bound(NET, [0.0, 0.0], 1.0, budget=0.0), ["bound", "--budget", "0"],
     "budget must be a positive number of seconds"),
])
def test_names_are_parsed_by_the_library_in_both_front_ends(tmp_path, call, flags, message):
    with pytest.raises(ValueError, match=message):
        call()
    model = tmp_path / "net.json"
    NET.save(model)
    p = run_cli(flags[0], str(model), "--center=0,0", "--radius", "1", *flags[1:], expect=1)
    assert message in p.stderr


def test_norm_names_are_case_insensitive():
    assert rw.count(NET, [0.0, 0.0], 1.0, norm="LINF").regions == rw.count(NET, [0.0, 0.0], 1.0, norm="linf").regions


def test_every_question_takes_the_same_domain_keywords():
    boxed = rw.Network.from_layers([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))],
                                   input_box=(np.full(2, -1.0), np.full(2, 1.0)))
    box = (np.full(2, -1.0), np.full(2, 1.0))
    for domain in (dict(box=box), dict(input_box=True), dict(whole=True), dict(center=[0.2, 0.1], radius=0.5)):
        counted = rw.count(boxed, **domain)
        assert counted.regions == rw.validate(boxed, **domain).count.regions, domain
        assert rw.bound(boxed, **domain).bounds["global"] >= counted.regions, domain
        assert rw.graph(boxed, **domain, as_networkx=False)["witness"].shape[0] == counted.regions, domain
    assert rw.count(boxed, box=box).regions == rw.count_box(boxed, *box).regions == rw.count_box(boxed).regions == 4
    assert rw.count(boxed, whole=True).regions == rw.count_whole(boxed).regions == 4
    with pytest.raises(ValueError, match="choose one domain"):
        rw.count(boxed, [0.0, 0.0], 0.5, whole=True)
