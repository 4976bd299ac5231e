from .function import Function, function  # noqa: F401
from .io import In, Out, Param  # noqa: F401
from .mode import FAST_COMPILE, FAST_RUN, DebugMode, Mode, NanGuardMode, get_default_mode, get_mode  # noqa: F401
from .shared import SharedVariable, shared  # noqa: F401
from . import debugmode, io, mode, nanguardmode  # noqa: F401  (theano.compile.io.In, theano.compile.mode.Mode)
