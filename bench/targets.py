"""Issue #20's targets and the table that prints each measured ratio next to its target.

A target compares minigraph's median time on one row with another system's median measured in the
same run (interleaved), or with the fastest of all the others. A target against a peer that is not
installed (JAX, PyTorch: `make bench PEERS=1` installs them) is not judged: it says "needs PEERS=1".
"""
from dataclasses import dataclass

from common import PEERS

FASTEST = "fastest other"
SYSTEMS = ("minigraph", "numpy (hand)", "numba (hand)", "jax", "torch")


@dataclass(frozen=True)
class Target:
    row: str            # the workload's title, as in run.WORKLOADS (or the compile rows)
    against: str        # a system name, or FASTEST
    bound: float        # met when minigraph / against <= bound
    note: str = ""      # the words, e.g. "keep"

    def text(self):
        return f"<= {self.bound:g}x {self.against}" + (f" ({self.note})" if self.note else "")


@dataclass
class Verdict:
    target: Target
    ratio: float | None     # minigraph / the reference (medians); None when it could not be measured
    status: str             # "met", "missed", "needs PEERS=1", "not run"
    spread: tuple | None = None     # (lowest, highest) of the same ratio taken round by round


def _ratio(target, times):
    """minigraph / the target's reference in `times` ({system: seconds}), or None."""
    others = [t for name, t in times.items() if name != "minigraph"]
    if target.against == FASTEST:
        return times["minigraph"] / min(others) if others else None
    return times["minigraph"] / times[target.against] if target.against in times else None


def spread(target, rounds):
    """(lowest, highest) ratio over the rounds; rounds: {system: [seconds in round i]}, interleaved."""
    n = min((len(v) for v in rounds.values()), default=0)
    ratios = [_ratio(target, {name: v[i] for name, v in rounds.items()}) for i in range(n)]
    ratios = [r for r in ratios if r is not None]
    return (min(ratios), max(ratios)) if ratios else None


def judge(target, times, installed, rounds=None):
    """The Verdict for one target. times: {system: seconds} of its row (None: the row did not run);
    installed(system) says whether a peer can be imported here; rounds: the per-round samples."""
    if not times or "minigraph" not in times:
        return Verdict(target, None, "not run")
    if target.against != FASTEST and not installed(target.against):
        return Verdict(target, None, "needs PEERS=1")
    ratio = _ratio(target, times)
    if ratio is None:
        return Verdict(target, None, "not run")
    band = spread(target, rounds) if rounds else None
    if target.against == FASTEST and any(not installed(p) for p in PEERS):
        return Verdict(target, ratio, "needs PEERS=1", band)
    return Verdict(target, ratio, "met" if ratio <= target.bound else "missed", band)


def table(targets, results, installed, rounds=None):
    """Markdown: one line per target row with every system's median, the ratio of the medians (with
    its lowest-highest range round by round) and the verdict. results: {row: {system: seconds}};
    rounds: {row: {system: [seconds per round]}}."""
    head = "| workload | " + " | ".join(SYSTEMS) + " | minigraph / reference (per-round range) | target | verdict |"
    lines = [head, "|" + "---|" * (len(SYSTEMS) + 4)]
    verdicts = []
    for target in targets:
        times = results.get(target.row)
        verdict = judge(target, times, installed, (rounds or {}).get(target.row))
        verdicts.append(verdict)
        cells = []
        for system in SYSTEMS:
            if times and system in times:
                cells.append(_seconds(times[system], target.row))
            elif not installed(system):
                cells.append("not installed")
            else:
                cells.append("—")
        ratio = "" if verdict.ratio is None else f"{verdict.ratio:.2f}x"
        if verdict.spread:
            ratio += f" ({verdict.spread[0]:.2f}-{verdict.spread[1]:.2f})"
        lines.append(f"| {target.row} | " + " | ".join(cells) + f" | {ratio} | {target.text()} | {verdict.status} |")
    return "\n".join(lines), verdicts


def _seconds(t, row):
    return f"{t:.3f} s" if row.startswith("compile") else f"{t * 1e3:.3f} ms"
