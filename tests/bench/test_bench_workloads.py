"""make bench compares like with like: every system of every workload computes the same outputs and
the same updated parameters (at tiny sizes), and the target table judges ratios correctly.

A bench whose systems compute different things (another learning rate, a missing term, a loss over
other steps) reports a meaningless ratio; these tests exist to catch that. Peer comparisons (JAX,
PyTorch) are skipped only when that peer is not installed (`make bench PEERS=1` installs them).
"""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
_environ = dict(os.environ)
import common  # noqa: E402
import compile_times  # noqa: E402
import notebooks  # noqa: E402
import targets  # noqa: E402
import workloads_basic  # noqa: E402
import workloads_scan  # noqa: E402
import workloads_svi  # noqa: E402
os.environ.clear()
os.environ.update(_environ)     # the bench's defaults (its cache folder, BLAS timeout) stay out of other tests

STEPS = 3
# The scan and SVI graphs run on minigraph's numpy backend here: their numba compiles take 20 s and
# 80 s on an empty cache, whatever the size, and the numba backend's agreement with the numpy one
# is tests/minigraph's job. This file checks the bench's *definitions*: same model, same update.
WORKLOADS = {
    "poly": lambda: workloads_basic.poly(50),
    "logreg": lambda: workloads_basic.logistic(30, 7),
    "mlp sigmoid 2-4-1": lambda: workloads_basic.mlp(40, (2, 4, 1)),
    "mlp softmax 5-6-3": lambda: workloads_basic.mlp(40, (5, 6, 3)),
    "scan rnn": lambda: workloads_scan.rnn(steps=6, batch=4, n_in=3, n_hid=5, backend="numpy"),
}


def run_steps(work, steps=STEPS):
    """{system: ([outputs of each step], parameters after the steps)}."""
    done = {}
    for name, step in work.systems.items():
        outs = []
        for _ in range(steps):
            out = step()
            out = out if isinstance(out, (tuple, list)) else [out]
            outs.append([common.as_numpy(o).astype(float) for o in out])
        params = [common.as_numpy(p).astype(float) for p in work.params[name]()] if name in work.params else None
        done[name] = (outs, params)
    return done


def assert_same_computation(work, reference="numpy (hand)", rtol=1e-7, atol=1e-10):
    """Every system's outputs, step by step, and its parameters afterwards equal the reference's."""
    done = run_steps(work)
    ref_outs, ref_params = done[reference]
    for name, (outs, params) in done.items():
        for k, (got, want) in enumerate(zip(outs, ref_outs)):
            assert len(got) == len(want), f"{name}: step {k} returns {len(got)} outputs, {reference} {len(want)}"
            for i, (g, w) in enumerate(zip(got, want)):
                np.testing.assert_allclose(g, w, rtol=rtol, atol=atol,
                                           err_msg=f"{name} vs {reference}: output {i} of step {k}")
        if ref_params is not None:
            assert params is not None, f"{name}: no parameters to compare with {reference}'s"
            for i, (g, w) in enumerate(zip(params, ref_params)):
                np.testing.assert_allclose(g, w, rtol=rtol, atol=atol,
                                           err_msg=f"{name} vs {reference}: parameter {i} after {STEPS} steps")
    return done


@pytest.mark.parametrize("key", list(WORKLOADS))
def test_every_system_computes_the_same_step(key):
    work = WORKLOADS[key]()
    assert "minigraph" in work.systems and "numpy (hand)" in work.systems
    done = assert_same_computation(work)
    for peer in common.PEERS:
        if common.installed(peer):
            assert peer in done, f"{key}: {peer} is installed but the workload has no {peer} system"
    # the steps really train: the parameters moved (a step that updates nothing would agree trivially)
    if key != "poly":
        before = WORKLOADS[key]().params["numpy (hand)"]()
        after = done["numpy (hand)"][1]
        assert any(not np.allclose(a, np.asarray(b, dtype=float)) for a, b in zip(after, before))


def test_a_bench_comparing_different_steps_is_caught():
    honest = workloads_basic.logistic(30, 7)
    assert_same_computation(honest)
    tampered = workloads_basic.logistic(30, 7)
    tampered.params["numpy (hand)"]()[0][:] *= 1.01      # the hand-written step starts from other weights
    with pytest.raises(AssertionError, match="numpy \\(hand\\)"):
        assert_same_computation(tampered)


def test_svi_step_matches_numpy_elbo_and_jax():
    """The GP notebook's step on 60 of its rows: minigraph's ELBO equals a plain numpy forward pass at
    the same parameters and noise, step after step; JAX's ELBO and updated parameters equal minigraph's."""
    work = workloads_svi.svi_gp(rows=60, backend="numpy", check=False)
    Y, mask, _, noise = workloads_svi.notebook_data(rows=60)
    for _ in range(STEPS):
        params = dict(zip(workloads_svi.NAMES, work.params["minigraph"]()))
        expected = workloads_svi.numpy_elbo(params, noise, Y, mask)
        values = {name: float(common.as_numpy(step())) for name, step in work.systems.items()}
        for name, value in values.items():
            assert value == pytest.approx(expected, rel=1e-9), name
    if common.installed("jax"):
        for k, a, b in zip(workloads_svi.NAMES, work.params["minigraph"](), work.params["jax"]()):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-7, atol=1e-10, err_msg=k)
    else:
        pytest.skip("JAX is not installed (make bench PEERS=1): the JAX half of the SVI check did not run")


def test_svi_setup_check_refuses_a_different_elbo():
    work = workloads_svi.svi_gp(rows=60, backend="numpy", check=False)
    Y, mask, init, noise = workloads_svi.notebook_data(rows=60)
    right = workloads_svi.numpy_elbo(init, noise, Y, mask)
    with pytest.raises(AssertionError, match="ELBO"):
        workloads_svi.check_same_step(work, right + 1e-3 * abs(right))


# --- the target table ---------------------------------------------------------------------------
def everything(_):
    return True


def no_peers(system):
    return system not in common.PEERS


def test_targets_met_missed_and_at_the_bound():
    t = targets.Target("row", "numba (hand)", 1.25)
    assert targets.judge(t, {"minigraph": 1.0, "numba (hand)": 1.0}, everything).status == "met"
    at_bound = targets.judge(t, {"minigraph": 1.25, "numba (hand)": 1.0}, everything)
    assert (at_bound.status, at_bound.ratio) == ("met", 1.25)
    missed = targets.judge(t, {"minigraph": 1.3, "numba (hand)": 1.0}, everything)
    assert (missed.status, round(missed.ratio, 6)) == ("missed", 1.3)


def test_fastest_other_uses_the_fastest_and_needs_the_peers():
    t = targets.Target("row", targets.FASTEST, 1.0)
    times = {"minigraph": 2.0, "numpy (hand)": 3.0, "jax": 1.0, "torch": 4.0}
    v = targets.judge(t, times, everything)
    assert (v.status, v.ratio) == ("missed", 2.0)          # against JAX, the fastest, not numpy
    v = targets.judge(t, {"minigraph": 2.0, "numpy (hand)": 3.0}, no_peers)
    assert v.status == "needs PEERS=1" and v.ratio == pytest.approx(2 / 3)


def test_per_round_range_compares_within_each_round():
    t = targets.Target("row", targets.FASTEST, 1.0)
    rounds = {"minigraph": [1.0, 4.0, 2.0], "numpy (hand)": [2.0, 2.0, 8.0], "jax": [4.0, 1.0, 1.0]}
    times = {name: float(np.median(v)) for name, v in rounds.items()}
    v = targets.judge(t, times, everything, rounds)
    assert v.spread == (0.5, 4.0)           # round 1: 1/2; round 2: 4/1; round 3: 2/1
    assert (v.ratio, v.status) == (2.0, "missed")  # the verdict is the medians' ratio: 2 / jax's 1


def test_targets_against_a_missing_peer_or_row():
    t = targets.Target("row", "jax", 1.0)
    assert targets.judge(t, {"minigraph": 1.0, "numpy (hand)": 1.0}, no_peers).status == "needs PEERS=1"
    assert targets.judge(t, None, everything).status == "not run"


def test_table_prints_each_ratio_next_to_its_target():
    ts = [targets.Target("poly", "numba (hand)", 1.25, "call overhead"), targets.Target("scan", "jax", 1.0)]
    results = {"poly": {"minigraph": 0.003, "numpy (hand)": 0.01, "numba (hand)": 0.002}, "scan": {"minigraph": 1.0}}
    text, verdicts = targets.table(ts, results, no_peers)
    poly_line = next(line for line in text.splitlines() if line.startswith("| poly "))
    assert "| 1.50x | <= 1.25x numba (hand) (call overhead) | missed |" in poly_line
    text, _ = targets.table(ts, results, no_peers, {"poly": {"minigraph": [3, 4], "numba (hand)": [2, 2]}})
    assert "| 1.50x (1.50-2.00) | <= 1.25x numba (hand) (call overhead) | missed |" in text
    assert "3.000 ms" in poly_line and "not installed" in poly_line
    scan_line = next(line for line in text.splitlines() if line.startswith("| scan "))
    assert scan_line.endswith("| <= 1x jax | needs PEERS=1 |")
    assert [v.status for v in verdicts] == ["missed", "needs PEERS=1"]


# --- compile-time and notebook scripts (their logic; the runs themselves take minutes) ------------
def test_compile_processes_write_pyc_and_use_their_own_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = compile_times.compile_env(str(tmp_path))
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["MINIGRAPH_CACHE_DIR"].startswith(str(tmp_path)) and env["NUMBA_CACHE_DIR"].startswith(str(tmp_path))
    assert env["PYTHONPATH"].split(os.pathsep)[0] == ROOT


def test_notebook_runs_drop_hidden_tests_only():
    source = "x = 1\n### BEGIN HIDDEN TESTS\ngrade.value('x', 'x', 1)\n### END HIDDEN TESTS\nprint(x)"
    assert notebooks.without_hidden_tests(source) == "x = 1\nprint(x)"
    assert notebooks.without_hidden_tests("### BEGIN SOLUTION\ny = 2\n### END SOLUTION") == \
        "### BEGIN SOLUTION\ny = 2\n### END SOLUTION"
    found = [os.path.relpath(p, os.path.join(ROOT, "course")) for p in notebooks.notebooks(["svi/"])]
    assert found == [n + ".ipynb" for n in notebooks.SVI]


def test_notebook_table_judges_first_runs_and_numba_against_numpy():
    times = {"svi/2_categorical_latent_gp": {"auto-empty": 30.0, "auto-warm": 20.0, "numba-empty": 60.0, "numpy": 40.0},
             "act1_theory/1_three_ways": {"auto-empty": 5.0, "auto-warm": 5.0, "numba-empty": 6.0, "numpy": 4.0}}
    lines = notebooks.report(times).splitlines()
    gp = next(line for line in lines if line.startswith("| svi/2_categorical_latent_gp "))
    assert "| 1.50 missed | 1.50 missed |" in gp
    three = next(line for line in lines if line.startswith("| act1_theory/1_three_ways "))
    assert "| 1.00 met | 1.50 (no target) |" in three


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs a process allowed on two cores or more")
def test_bench_threads_1_holds_the_whole_process_to_one_core():
    """XLA ran a step on two threads with one allowed: BENCH_THREADS=1 must leave every system one core."""
    import subprocess
    code = "import os, common; print(len(os.sched_getaffinity(0)))"
    env = dict(os.environ, BENCH_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=os.path.join(ROOT, "bench"),
                         capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "1"
