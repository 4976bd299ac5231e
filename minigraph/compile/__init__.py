from .function import Function, function  # noqa: F401
from .shared import SharedVariable, shared  # noqa: F401
