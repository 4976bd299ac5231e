"""Graph rewrites applied by `function` before a backend sees the graph.

`optimize(outputs, mode, excluding)` takes the output variables of a private copy of the graph
and returns equivalent output variables. (The rewrite phases are the subject of their own issue;
until they land, compiled graphs run as built.)
"""


def optimize(outputs, mode="FAST_RUN", excluding=()):
    if mode not in ("FAST_RUN", "FAST_COMPILE"):
        raise ValueError(f"unknown mode {mode!r}; use 'FAST_RUN' or 'FAST_COMPILE'")
    return list(outputs)
