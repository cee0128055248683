"""Counts the activation regions of an ONNX network in a box with nnenum (run by compare_nnenum.py).

    python nnenum_driver.py NNENUM_SRC MODEL.onnx LO,HI LO,HI ... [--no-contract]

Runs inside the virtual environment that compare_nnenum.py sets up, with NNENUM_SRC (the
`src` folder of an nnenum checkout) on the path; nnenum's code is run, never copied. Settings
are those of nnenum's own exact enumeration (`set_exact_settings` in nnenum.py), with one
process, no quick overapproximation, no specification and a float64 box, so that its leaf
stars are exactly the full-dimensional activation regions of the box. Prints one JSON line:
{"regions": leaf stars, "seconds": time of enumerate_network, "lps": LPs solved}.
"""

import json
import sys
import time


def main():
    src, model, *rest = sys.argv[1:]
    contract = "--no-contract" not in rest
    intervals = [tuple(float(v) for v in r.split(",")) for r in rest if not r.startswith("--")]
    sys.path.insert(0, src)
    import numpy as np
    from nnenum.enumerate import enumerate_network
    from nnenum.onnx_network import load_onnx_network_optimized
    from nnenum.settings import Settings

    Settings.TIMING_STATS = False
    Settings.NUM_PROCESSES = 1
    Settings.TRY_QUICK_OVERAPPROX = False
    Settings.BRANCH_MODE = Settings.BRANCH_EXACT
    Settings.CONTRACT_ZONOTOPE_LP = contract
    Settings.CONTRACT_LP_OPTIMIZED = contract
    Settings.CONTRACT_LP_TRACK_WITNESSES = contract
    Settings.OVERAPPROX_BOTH_BOUNDS = False
    Settings.PRINT_OUTPUT = False
    Settings.PRINT_PROGRESS = False
    Settings.TIMEOUT = np.inf
    Settings.SPLIT_IF_IDLE = False
    Settings.PARALLEL_ROOT_LP = False
    network = load_onnx_network_optimized(model)
    box = np.array(intervals, dtype=np.float64)
    started = time.perf_counter()
    result = enumerate_network(box, network)
    seconds = time.perf_counter() - started
    print(json.dumps({"regions": int(result.total_stars), "seconds": seconds, "lps": int(result.total_lps)}))


if __name__ == "__main__":
    main()
