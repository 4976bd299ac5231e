"""`make bench`: minigraph's numba backend against numpy by hand, hand-written numba, JAX and PyTorch
(CPU), with issue #20's targets.

Every workload runs its systems interleaved (one batch of calls of each per round) so machine noise
hits all of them alike; every ratio compares medians measured in this run. The table prints each
ratio of medians, with its lowest-highest range round by round, next to its target with "met" or
"missed" (or "needs PEERS=1" where the reference is a peer that is not installed).
Results go to bench/results.{json,md}. Not a test: nothing here fails.

    python bench/run.py                  every row
    python bench/run.py --only scan,SVI  the rows whose title contains one of the words
    python bench/run.py --no-compile     skip the compile-time rows (they take a minute)
    BENCH_THREADS=1 python bench/run.py  every system on one thread (BLAS, numba, XLA, torch)

The whole-notebook times (auto/numba/numpy backends, empty and warm caches) are bench/notebooks.py.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import THREADS, installed, interleaved, jax, np, torch  # noqa: E402  (sets the BLAS environment first)

import numba  # noqa: E402

from compile_times import ROWS as COMPILE_ROWS, compile_times  # noqa: E402
from targets import FASTEST, Target, table  # noqa: E402
from workloads_basic import logistic, mlp, poly  # noqa: E402, F401  (bench/gpu.py uses poly, logistic)
from workloads_scan import rnn  # noqa: E402
from workloads_svi import svi_gp  # noqa: E402

# The course's own workloads (bench/gpu.py runs the first six on the GPU): (title, make, rounds).
WORKLOADS = [("a**2+2ab+b**2, n=1e4", lambda: poly(10_000)),
             ("a**2+2ab+b**2, n=1e7", lambda: poly(10_000_000)),
             ("logreg step N=400 D=784", lambda: logistic(400, 784)),
             ("logreg step N=20000 D=784", lambda: logistic(20_000, 784)),
             ("MLP+momentum 2-4-1 N=1000", lambda: mlp(1000, (2, 4, 1))),
             ("MLP+momentum 64-100-10 N=1797", lambda: mlp(1797, (64, 100, 10))),
             ("scan RNN step T=50 B=32 H=32", lambda: rnn()),
             ("SVI GP notebook step (683 rows)", lambda: svi_gp())]
SLOW = ("1e7", "20000", "SVI")          # rows whose calls are long: fewer rounds

TARGETS = [Target(WORKLOADS[1][0], FASTEST, 1.0, "keep fastest of all"),
           Target(WORKLOADS[0][0], "numba (hand)", 1.25, "call overhead"),
           Target(COMPILE_ROWS[0], "numba (hand)", 1.5),
           Target(COMPILE_ROWS[1], "numba (hand)", 1.1),
           Target(WORKLOADS[2][0], "numpy (hand)", 1.0, "keep"),
           Target(WORKLOADS[3][0], FASTEST, 1.0),
           Target(WORKLOADS[4][0], "numpy (hand)", 1.0, "keep"),
           Target(WORKLOADS[5][0], FASTEST, 1.0),
           Target(WORKLOADS[6][0], "jax", 1.0),
           Target(WORKLOADS[7][0], "jax", 1.0)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated words: run the rows whose title has one")
    parser.add_argument("--no-compile", action="store_true", help="skip the compile-time rows")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per row (slow rows: half)")
    args = parser.parse_args(argv)
    words = [w for w in args.only.split(",") if w]
    results, extra, per_round = {}, {}, {}
    for title, make in WORKLOADS:
        if words and not any(w in title for w in words):
            continue
        rounds = max(3, args.rounds // 2) if any(s in title for s in SLOW) else args.rounds
        per_round[title] = {}
        times = interleaved(make(), rounds=rounds, samples=per_round[title])
        results[title] = times
        print(f"{title}: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in times.items()), flush=True)
    if not args.no_compile and (not words or any("compile" in w for w in words)):
        ct = compile_times()
        extra["compile samples (s)"] = ct.pop("samples")
        for row in COMPILE_ROWS:
            extra[f"{row}, trivial njit (numba's floor)"] = ct[row].pop("trivial njit")
            results[row] = ct[row]
            per_round[row] = {system: extra["compile samples (s)"][f"{row} / {system}"] for system in ct[row]}
    text, verdicts = table(TARGETS, results, installed, per_round)
    info = {"numba": numba.__version__, "numpy": np.__version__, "cpus": os.cpu_count(),
            "jax": getattr(jax, "__version__", None), "torch": getattr(torch, "__version__", None),
            "threads per system": THREADS or "all cores", "load average": os.getloadavg()}
    notes = [f"- {k}: {v:.3f} s" for k, v in extra.items() if isinstance(v, float)]
    text = "\n".join([text, "", *notes, "", f"versions: {info}"])
    print(text)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "results.json"), "w") as f:
        json.dump({"medians_s": results, "verdicts": [
            {"row": v.target.row, "target": v.target.text(), "ratio": v.ratio, "per-round range": v.spread,
             "status": v.status}
            for v in verdicts], "extra": extra, "versions": info}, f, indent=1)
    with open(os.path.join(here, "results.md"), "w") as f:
        f.write(text + "\n")
    return results, verdicts


if __name__ == "__main__":
    main()
