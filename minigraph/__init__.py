"""minigraph: a small symbolic-differentiation library that speaks the Theano dialect.

    import minigraph as theano
    import minigraph.tensor as T
    from minigraph import function, shared, pp

Build a graph with T.* constructors and operators, differentiate it with T.grad, compile it
with function(...), and call the result with numbers.
"""
from . import tensor  # noqa: F401  (attaches the operators to Variable)
from .compile import Function, SharedVariable, function, shared  # noqa: F401
from .compile import (FAST_COMPILE, FAST_RUN, DebugMode, In, Mode, NanGuardMode, Out,  # noqa: F401
                      Param)
from . import compile  # noqa: F401  (theano.compile.mode.Mode, theano.compile.io.In)
from .config import config  # noqa: F401
from .gradcheck import verify_grad  # noqa: F401
from .gradient import Lop, Rop, grad, hessian, jacobian  # noqa: F401
from .graph import Apply, Constant, Op, Variable  # noqa: F401
from .ops.dot import dot  # noqa: F401  (theano.dot)
from .ops import linalg  # noqa: F401
from .printing import debugprint, pp  # noqa: F401
from . import scan_module  # noqa: F401  (theano.scan_module.until)
from .scan_module import foldl, foldr, map, reduce, scan  # noqa: F401  (theano.map, theano.reduce...)
from . import testing  # noqa: F401  (minigraph.symbolic imports sympy, a second: import it by name)

from .tensor.missing import not_supported as _not_supported

__version__ = "0.1.0"


def __getattr__(name):       # theano.<name> that minigraph lacks
    raise _not_supported("minigraph", name)
