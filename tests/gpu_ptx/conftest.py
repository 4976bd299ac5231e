"""The CUDA kernels compiled to PTX for real GPUs, with no GPU and without the simulator: this
folder runs in its own pytest process (`make test` starts it), never with NUMBA_ENABLE_CUDASIM=1.

libNVVM, all that numba.cuda.compile_ptx needs, comes from the pinned pip wheel
nvidia-cuda-nvcc-cu12 (the dev extra), so CI and laptops compile with the same one. Numba's
built-in CUDA target doesn't look in pip wheels: it looks in CUDA_HOME, for
nvvm/lib64/libnvvm.so.<version> and nvvm/libdevice/, and failing that asks the dynamic loader
for any libnvvm.so (a system toolkit's, if there is one). The wheel ships an unversioned
libnvvm.so, so CUDA_HOME points at a scratch folder linking the wheel's files under the names
numba looks for. Set before numba first looks: it caches what it finds.
"""
import atexit
import importlib.util
import os
import shutil
import sys
import tempfile


def _cuda_home_from_wheel():
    wheel = importlib.util.find_spec("nvidia.cuda_nvcc")
    if wheel is None:
        return None
    nvvm = os.path.join(list(wheel.submodule_search_locations)[0], "nvvm")
    if not sys.platform.startswith("linux"):           # Windows: nvvm/bin/nvvm64_*.dll as numba expects
        return os.path.dirname(nvvm)
    home = tempfile.mkdtemp(prefix="minigraph-cuda-home-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.makedirs(os.path.join(home, "nvvm", "lib64"))
    os.symlink(os.path.join(nvvm, "lib64", "libnvvm.so"), os.path.join(home, "nvvm", "lib64", "libnvvm.so.4"))
    os.symlink(os.path.join(nvvm, "libdevice"), os.path.join(home, "nvvm", "libdevice"))
    return home


if (_home := _cuda_home_from_wheel()) is not None:     # the pinned toolchain wins over CUDA_HOME
    os.environ["CUDA_HOME"] = _home


def pytest_report_header():
    from numba.cuda.cuda_paths import get_cuda_paths
    nvvm = get_cuda_paths()["nvvm"]
    found = os.path.realpath(nvvm.info) if nvvm.info else "the dynamic loader's libnvvm.so, if any"
    return f"libNVVM: {found} (found by: {nvvm.by})"
