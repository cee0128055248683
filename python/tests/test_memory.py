"""Memory at scale from Python: the visited set's identity and its collision bound, and region
files streamed by ``count --save-regions`` read back with ``read_regions``."""

from __future__ import annotations

import numpy as np
import pytest

import regionwalk as rw
from conftest import FIXTURES, point_arg, random_net, run_cli


@pytest.mark.parametrize("seed", range(8))
def test_fingerprints_count_what_exact_patterns_count(seed):
    rng = np.random.default_rng(seed)
    net = random_net(rng, [3, 12, 10, 1], degenerate=seed % 2 == 1)
    center = rng.uniform(-0.5, 0.5, 3)
    exact = rw.count(net, center, 1.0, visited="patterns")
    hashed = rw.count(net, center, 1.0, visited="fingerprints")
    assert exact.complete and hashed.complete and exact.regions == hashed.regions > 1
    assert exact.collision_bound is None
    assert 0.0 < hashed.collision_bound < 1e-30
    # The default keeps exact patterns on small networks.
    assert rw.count(net, center, 1.0).collision_bound is None


def test_a_streamed_region_file_reads_back_as_the_region_list(tmp_path):
    model = FIXTURES / "examples" / "mlp_2x16x16.json"
    net = rw.Network.from_file(model)
    listed = rw.count(net, [0.1, -0.2], 0.5, patterns=True, witnesses=True)
    path = tmp_path / "regions.jsonl"
    run_cli("count", str(model), point_arg([0.1, -0.2]), "--radius", "0.5", "--save-regions", str(path), "-q")
    patterns, witnesses, inradii = rw.read_regions(path)
    assert patterns.shape == listed.patterns.shape and witnesses.shape == listed.witnesses.shape
    assert (patterns == listed.patterns).all()
    np.testing.assert_array_equal(witnesses, listed.witnesses)
    assert (inradii > 0).all()
    # A stopped count writes the regions still queued without witness (NaN rows).
    run_cli("count", str(model), point_arg([0.1, -0.2]), "--radius", "0.5", "--max-regions", "3",
            "--save-regions", str(path), "-q", expect=2)
    patterns, witnesses, _ = rw.read_regions(path)
    assert len(patterns) >= 3 and np.isnan(witnesses[-1]).all() and not np.isnan(witnesses[0]).any()
    path.write_text('{"pattern": "01"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2"):
        rw.read_regions(path)
