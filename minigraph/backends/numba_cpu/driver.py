"""The entry of a split kernel (split.py): a plain Python function that calls the njit parts in
turn, not an njit function itself.

Why: an njit function that calls other njit functions links their code into its own LLVM module,
and numba optimizes and compiles that whole module again. For a split kernel that is every part a
second time: the SVI GP notebook's step (1010 lines, 8 parts) compiled in 33.4 s with an njit
entry against 28.4 s with this one (one core, empty caches, one process each). A call pays numba's
dispatch once per part (a few microseconds each, against 1.5-5 ms for that step).

A Driver answers what the backend asks of a numba dispatcher: `signatures` and `overloads`
(those of the last part: the parts compile in order, so the last one compiled means all did) and
`compile(types)`, which compiles (or loads from the disk cache) every part for those argument
types without running anything: numba's type inference of the entry compiles each part it calls.
The auto backend's compiling child and `prepare` use it.
"""
from numba.core import compiler, typed_passes
from numba.core.registry import cpu_target


class Driver:
    def __init__(self, entry, last_part):
        self.py_func, self.last_part = entry, last_part

    def __call__(self, *values):
        return self.py_func(*values)

    @property
    def signatures(self):
        return self.last_part.signatures

    @property
    def overloads(self):
        return self.last_part.overloads

    def compile(self, types):
        # numba's typing pass over the entry's bytecode: resolving each call types the part for
        # the argument types at hand, which compiles it (disk cache first). Nothing is lowered.
        interp = compiler.run_frontend(self.py_func)
        typed_passes.type_inference_stage(cpu_target.typing_context, cpu_target.target_context,
                                          interp, tuple(types), None)
