"""`function(inputs, outputs, updates, givens)`: turn a graph into a Python callable.

Compiling = checking the request, copying the graph, rewriting the copy, and handing it to a
backend. Calling = checking the arguments by name, running the backend, and only then writing
the updates, all at once, so a failing call changes nothing.
"""
import warnings

import numpy as np

from .. import backends, rewrite
from ..config import config
from ..graph import LATE_BOUND, Constant, Variable, as_variable, clone_replace, graph_inputs
from ..ops.basic import Rebroadcast
from ..ops.elemwise import cast
from .io import FunctionGraph, FunctionMaker, In, Out, describe_inputs
from .mode import get_mode
from .shared import SharedVariable, with_default_updates


_MISSING = object()     # a keyword argument that was not given


class Function:
    def __init__(self, inputs, outputs, updates, givens, mode, name, on_unused_input,
                 allow_input_downcast, excluding, backend, device=None):
        # What copy() and pickling rebuild the function from (the user's graph, not the compiled one).
        self._spec = dict(inputs=inputs, outputs=outputs, updates=updates, givens=givens, mode=mode, name=name,
                          on_unused_input=on_unused_input, allow_input_downcast=allow_input_downcast,
                          excluding=excluding, backend=backend, device=device)
        self.name = name
        described = describe_inputs(inputs)
        _check_inputs([d.variable if isinstance(d, In) else d for d in described])
        self.inputs = [d.variable for d in described]
        self.input_names = [d.name for d in described]
        self._defaults = [_MISSING if d.value is None else d.value for d in described]
        _check_defaults(self.inputs, self._defaults)
        self.single_output = not isinstance(outputs, (list, tuple))
        outputs = [outputs] if self.single_output else list(outputs)
        self._borrowed = {k for k, o in enumerate(outputs) if isinstance(o, Out) and o.borrow}
        outputs = [as_variable(o.variable if isinstance(o, Out) else o) for o in outputs]
        self.allow_input_downcast = allow_input_downcast
        # (dtype, ndim) an ndarray argument must have to skip conversion; None: always convert
        self._fast = [(None, -1) if any(v.broadcastable) else (np.dtype(v.dtype), v.ndim) for v in self.inputs]
        self.updates = _check_updates(updates)
        # In(x, update=...): after a call, x's default becomes the update's value (Theano's internal state)
        self._state = [(k, _state_update(d)) for k, d in enumerate(described) if d.update is not None]
        # givens and updates are substituted on a copy; the user's graph stays as it was.
        graph = outputs + [u for _, u in self._state] + [u for _, u in self.updates]
        graph = clone_replace(graph, _check_givens(givens))
        self.shared = [v for v in graph_inputs(graph) if isinstance(v, SharedVariable)]
        for s, _ in self.updates:
            if s not in self.shared:
                self.shared.append(s)
        _check_missing(graph, self.inputs, on_unused_input)
        self.mode = get_mode(mode)
        excluding = tuple(excluding or ()) + self.mode.excluded
        self.graph = rewrite.optimize(graph, self.mode.rewrites, excluding=excluding)
        self.n_outputs = len(outputs)
        self.backend_name = backends.choose(device or config.device, backend or config.backend)
        # Update k may overwrite its shared variable's storage (the numba backends decide when it is safe).
        first_update = self.n_outputs + len(self._state)
        inplace = {first_update + k: len(self.inputs) + self.shared.index(s) for k, (s, _) in enumerate(self.updates)}
        self.thunk = self.mode.compile(self.backend_name, self.inputs + self.shared, self.graph, inplace)
        self.maker = FunctionMaker(FunctionGraph(self.inputs + self.shared, self.graph[:self.n_outputs]),
                                   described, self.mode)
        # An update value of exactly the shared variable's dtype and rank needs no check (the
        # broadcastable dimensions' sizes are checked every time).
        self._update_checks = [(s, np.dtype(s.dtype), s.ndim, [d for d, b in enumerate(s.broadcastable) if b])
                               for s, _ in self.updates]
        # Only an output that is an input (or a view the backend passes through) can be one of the
        # values handed in: those are copied, so the caller never holds the function's storage.
        self._copy_if_given = {k for k, o in enumerate(self.graph[:self.n_outputs])
                               if (o.owner is None or isinstance(o.owner.op, Rebroadcast)) and k not in self._borrowed}
        # A call may skip the checks above when the backend offers a direct entry (Thunk.direct, which
        # checks types itself) and there is nothing else to do: no shared values to read or write, no
        # input whose broadcastable dimension needs a size check, no output to copy.
        self._direct_ok = not (self.shared or self._state or self._copy_if_given
                               or any(dtype is None for dtype, _ in self._fast))

    def __call__(self, *args, **kwargs):
        if self._direct_ok and not kwargs:
            direct = self.thunk.direct
            if direct is not None:
                try:
                    results = direct(*args)
                except Exception:         # another type, a list, an error to report: the checked way
                    pass
                else:
                    return results[0] if self.single_output else list(results)
        if kwargs or len(args) != len(self.inputs):
            args = self._bind(args, kwargs)
        values = list(args)
        for k, (dtype, ndim) in enumerate(self._fast):
            a = values[k]     # an ndarray of exactly the input's dtype and rank needs no conversion
            if type(a) is not np.ndarray or a.dtype is not dtype or a.ndim != ndim:
                values[k] = self._convert(k, a)
        thunk = self.thunk
        if self.shared:                     # the backend's storage: host arrays, or (CUDA) device ones
            read = thunk.storage.read
            values += [read(s) for s in self.shared]
        results = thunk.run(*values)
        if self._state:
            self._keep_state(results[self.n_outputs:self.n_outputs + len(self._state)], thunk.storage)
        if self.updates:
            self._apply_updates(results[self.n_outputs + len(self._state):], thunk.storage)
        if thunk.storage.keeps_values_elsewhere:
            results = [thunk.storage.to_host(o) for o in results[:self.n_outputs]]
        if self._copy_if_given:  # never hand out storage the function still owns (an input or a shared value)
            results = [o.copy() if k in self._copy_if_given and any(o is v for v in values) else o
                       for k, o in enumerate(results[:self.n_outputs])]
        return results[0] if self.single_output else list(results[:self.n_outputs])

    def _keep_state(self, new_values, storage):
        checked = [self.inputs[k].type.filter(storage.to_host(v), name=f"update of input {self.input_names[k]}")
                   for (k, _), v in zip(self._state, new_values)]
        for (k, _), value in zip(self._state, checked):
            self._defaults[k] = value

    def _input_index(self, key):
        for k, (v, n) in enumerate(zip(self.inputs, self.input_names)):
            if key is v or (isinstance(key, str) and key == n):
                return k
        raise KeyError(f"{self._label()} has no input {key!r}; inputs are {self.input_names}")

    def __getitem__(self, key):
        """f[x] or f['x']: the value input x takes when a call leaves it out (its state, with an update)."""
        value = self._defaults[self._input_index(key)]
        return None if value is _MISSING else value

    def __setitem__(self, key, value):
        k = self._input_index(key)
        self._defaults[k] = self.inputs[k].type.filter(value, name=f"value of input {self.input_names[k]}",
                                                       allow_downcast=True)

    def _apply_updates(self, new_values, storage):
        """Check every new value, then store them all: a bad one changes nothing."""
        elsewhere = storage.keeps_values_elsewhere        # then the checks run on a host stand-in
        for (s, dtype, ndim, broadcast), value in zip(self._update_checks, new_values):
            checked = storage.host_view(value) if elsewhere else value
            if elsewhere or checked.dtype != dtype or checked.ndim != ndim or any(checked.shape[d] != 1 for d in broadcast):
                s.type.filter(checked, name=f"update of shared variable {s.name or s}")
        write = storage.write
        for (s, *_), value in zip(self._update_checks, new_values):
            write(s, value)

    def _bind(self, args, kwargs):
        """Positional and keyword arguments as one list in input order, or a TypeError."""
        args = list(args)
        if len(args) < len(self.inputs):
            args += [_MISSING] * (len(self.inputs) - len(args))
        if kwargs:
            by_name = {n: k for k, n in enumerate(self.input_names) if n is not None}
            for key, value in kwargs.items():
                if key not in by_name:
                    raise TypeError(f"{self._label()}: unknown keyword argument {key!r}; inputs are "
                                    f"{self.input_names}")
                if args[by_name[key]] is not _MISSING:
                    raise TypeError(f"{self._label()}: argument {key!r} given twice (by position and by name)")
                args[by_name[key]] = value
        args = [d if a is _MISSING else a for a, d in zip(args, self._defaults)] + args[len(self.inputs):]
        missing = [n or f"<{v.type}>" for v, n, a in zip(self.inputs, self.input_names, args) if a is _MISSING]
        if len(args) != len(self.inputs) or missing:
            names = ", ".join(v.name or f"<{v.type}>" for v in self.inputs)
            raise TypeError(f"{self._label()} takes {len(self.inputs)} argument(s) ({names}), got "
                            f"{len(args) - len(missing)}" + (f"; missing {', '.join(missing)}" if missing else ""))
        return args

    def _convert(self, k, value):
        v = self.inputs[k]
        return v.type.filter(value, name=f"argument {k} ({v.name or v.type})", allow_downcast=self.allow_input_downcast)

    def _label(self):
        return f"function {self.name!r}" if self.name else "this function"

    def copy(self, share_memory=True, swap=None, delete_updates=False, name=None):
        """A new function computing the same thing. swap={old shared: new shared} makes it use other
        shared variables; share_memory=False gives it copies of all of them; delete_updates drops updates."""
        swap = dict(swap or {})
        if not share_memory:
            for s in self.shared:
                swap.setdefault(s, SharedVariable(s.type, s.get_value(), name=s.name))
        spec = dict(self._spec, name=name or self.name)
        outputs = spec["outputs"]
        if swap:
            single = not isinstance(outputs, (list, tuple))
            plain = [o.variable if isinstance(o, Out) else o for o in ([outputs] if single else outputs)]
            plain = clone_replace([as_variable(o) for o in plain], swap)
            spec["outputs"] = plain[0] if single else plain
            spec["updates"] = [(swap.get(s, s), clone_replace([u], swap)[0]) for s, u in self.updates]
        if delete_updates:        # an input only the updates read is then unused: that is expected
            spec["updates"], spec["on_unused_input"] = None, "ignore"
        return Function(**spec)

    def __getstate__(self):
        # the graph, not the compiled code (unpickling compiles again), and the inputs' current values
        return {"spec": self._spec, "defaults": [None if d is _MISSING else d for d in self._defaults]}

    def __setstate__(self, state):
        self.__init__(**state["spec"])
        self._defaults = [_MISSING if d is None else d for d in state["defaults"]]

    def source(self):
        """The code the backend generated, where it generates code; else how it runs the graph."""
        return self.thunk.source()


def function(inputs, outputs=None, updates=None, givens=None, mode=None, name=None,
             on_unused_input="raise", allow_input_downcast=False, excluding=None, backend=None,
             device=None, no_default_updates=False):
    """Compile a callable that computes `outputs` from `inputs` and then applies `updates`.

    device: 'cpu', 'cuda' (the GPU backend) or 'auto' (the GPU when numba.cuda finds one);
    default `config.device`. On the CPU, `backend` (default `config.backend`, "auto") is "auto" (numpy
    until the function is hot, then numba), "numba" (compile now) or "numpy" (the reference).
    """
    if outputs is None:
        outputs = []
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list of variables, got {type(inputs).__name__}")
    if on_unused_input not in ("raise", "warn", "ignore"):
        raise ValueError(f"function: on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
    # shared variables with a default_update (random states) advance at every call
    updates = with_default_updates(outputs, updates, no_default_updates)
    return Function(inputs, outputs, updates, givens, mode, name, on_unused_input,
                    allow_input_downcast, excluding, backend, device)


def _check_inputs(inputs):
    seen = set()
    for k, v in enumerate(inputs):
        if not isinstance(v, Variable):
            raise TypeError(f"function: input {k} is {v!r}, not a symbolic variable")
        if isinstance(v, SharedVariable):
            raise TypeError(f"function: input {k} ({v.name or v}) is a shared variable; shared variables "
                            f"are used implicitly and cannot be listed as inputs")
        if isinstance(v, Constant) or v.owner is not None:
            raise TypeError(f"function: input {k} ({v}) is computed from other variables; "
                            f"inputs must be free variables such as T.dscalar('x')")
        if id(v) in seen:
            raise ValueError(f"function: input {k} ({v}) is listed twice")
        seen.add(id(v))


def _state_update(described):
    var, expr = described.variable, as_variable(described.update)
    if (expr.dtype, expr.ndim) != (var.dtype, var.ndim):
        expr = cast(expr, var.dtype) if expr.ndim == var.ndim and expr.type.is_float() == var.type.is_float() else expr
    if (expr.dtype, expr.ndim) != (var.dtype, var.ndim):
        raise TypeError(f"function: the update of input {described.name} is {expr.type}, but the input is {var.type}")
    return expr


def _check_defaults(inputs, defaults):
    """Inputs with a default value come last, as in a Python signature; defaults are checked now."""
    for k in range(1, len(inputs)):
        if defaults[k] is _MISSING and defaults[k - 1] is not _MISSING:
            raise TypeError(f"function: input {k} ({inputs[k].name or inputs[k]}) has no default value but "
                            f"comes after input {k - 1}, which has one; put inputs with defaults last")
    for k, (v, d) in enumerate(zip(inputs, defaults)):
        if d is not _MISSING:
            defaults[k] = v.type.filter(d, name=f"default value of input {v.name or k}", allow_downcast=True)


def _pairs(mapping, what):
    if mapping is None:
        return []
    if isinstance(mapping, dict):
        return list(mapping.items())
    pairs = list(mapping)
    if len(pairs) == 2 and isinstance(pairs[0], Variable) and not isinstance(pairs[0], (list, tuple)):
        pairs = [tuple(pairs)]       # a single (shared, expression) pair
    for p in pairs:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise TypeError(f"function: {what} must be (variable, expression) pairs, got {p!r}")
    return [tuple(p) for p in pairs]


def _check_updates(updates):
    checked, seen = [], set()
    for var, expr in _pairs(updates, "updates"):
        name = var.name or str(var)
        if not isinstance(var, SharedVariable):
            raise TypeError(f"function: updates can only change shared variables, but {name} is not shared")
        if id(var) in seen:
            raise ValueError(f"function: shared variable {name} is updated twice")
        seen.add(id(var))
        expr = as_variable(expr)
        if expr.dtype != var.dtype and expr.ndim == var.ndim and np.can_cast(expr.dtype, var.dtype) \
                and isinstance(expr, Constant):
            expr = as_variable(expr.data.astype(var.dtype))
        problem = None
        if expr.ndim != var.ndim:
            problem = f"the update is {expr.ndim}-d but {name} is {var.ndim}-d"
        elif expr.dtype != var.dtype:
            problem = (f"the update has dtype {expr.dtype} but {name} has dtype {var.dtype} "
                       f"(use T.cast(expr, '{var.dtype}'))")
        elif any(vb and not eb for vb, eb in zip(var.broadcastable, expr.broadcastable)):
            problem = (f"{name} has broadcastable pattern {var.broadcastable} but the update has "
                       f"{expr.broadcastable}; use T.addbroadcast(expr, ...) to state it")
        if problem:
            raise TypeError(f"function: bad update for shared variable {name}: {problem}")
        checked.append((var, expr))
    return checked


def _check_givens(givens):
    replace = {}
    for old, new in _pairs(givens, "givens"):
        new = as_variable(new)
        if not isinstance(old, Variable):
            raise TypeError(f"function: givens keys must be variables, got {old!r}")
        if (old.ndim, old.dtype) != (new.ndim, new.dtype):
            raise TypeError(f"function: givens replaces {old} ({old.type}) with {new} ({new.type}): "
                            f"the dtype and number of dimensions must match")
        replace[old] = new
    return replace


def _check_missing(graph, inputs, on_unused_input):
    leaves = [v for v in graph_inputs(graph) if not isinstance(v, (Constant, SharedVariable))]
    given = {id(v) for v in inputs}
    missing = [v for v in leaves if id(v) not in given]
    if missing:
        v = missing[0]
        raise TypeError(f"function: the outputs need {v.name or v} ({v.type}, created at {v.site[0]}, "
                        f"line {v.site[1]}), which is not among the inputs "
                        f"[{', '.join(str(i.name or i) for i in inputs)}]; add it to the inputs or use givens")
    used = {id(v) for v in leaves}
    unused = [v for v in inputs if id(v) not in used]
    if unused and on_unused_input != "ignore":
        k = next(k for k, v in enumerate(inputs) if v is unused[0])
        message = (f"function: input {k} ({unused[0].name or unused[0]}) is not used by any output or update; "
                   f"pass on_unused_input='warn' to make this a warning, or 'ignore' to allow it")
        if on_unused_input == "raise":
            raise ValueError(message)
        warnings.warn(message, stacklevel=4)


LATE_BOUND["function"] = function      # Variable.eval (graph.py, the core) compiles with this
