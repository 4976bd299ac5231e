"""The numba CPU backend: a whole graph becomes one generated Python function, compiled by numba.

    compile(inputs, outputs)                         compiler.py
      -> generate(): walk the nodes in topological   codegen.py (the Context), emit_*.py (one
         order; the emitter registered for each op    module of emitters per op family,
         type writes its code                         `@register(OpClass)`), inplace.py
      -> one module file `<cache>/mg_<hash>.py`       cache.py; the module imports runtime.py
         holding `def kernel(...)` under @njit(cache=True)
      -> a Thunk calling kernel once per call: no per-node Python dispatch.
    The `auto` backend (the default) runs on numpy until the function is hot: tiering.py.

Elementwise work is written as loops over the broadcast shape; an elementwise result used once
is inlined into its consumer's loop (emit_elemwise.py). What makes those loops fast:
  - exp, log, tanh, sigmoid... are numba_math's, which LLVM vectorizes;
  - a loop whose operands are all C-contiguous and unbroadcast runs over one flat index;
  - large new arrays get 2 MiB pages (`runtime.hugepages`), as numpy's do;
  - an update overwrites its shared variable's storage where that is safe (inplace.py);
  - X @ w, elementwise work on its rows and X.T @ g run four rows at a time (rowblock.py);
  - a very long kernel is compiled as parts of ~120 lines (split.py), called from a plain Python
    entry (driver.py); the math helpers are LLVM instructions inlined at each use (numba_math.py);
  - the module also holds `kernel_parallel`, the same body with parallel outer loops, used for
    calls with a large input when the graph has no BLAS call and no row region.
MINIGRAPH_DEBUG=1 prints the generated source; so does f.source().
"""
from . import emit_control, emit_elemwise, emit_linalg, emit_random, emit_scan, emit_shape  # noqa: F401  (registering the emitters)
from .cache import LOADED as _LOADED  # noqa: F401  (kernels loaded in this process; tests look)
from .codegen import EMITTERS, Context, Unsupported, generate, register  # noqa: F401
from .compiler import compile  # noqa: F401
