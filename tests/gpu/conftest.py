"""The GPU backend's tests run in their own pytest process (`make test` starts it), because the
CUDA simulator is chosen by NUMBA_ENABLE_CUDASIM when numba is first imported.

    pytest tests/gpu                            the kernels in numba's simulator (no GPU needed)
    NUMBA_ENABLE_CUDASIM=0 pytest tests/gpu     the same tests on a real GPU, plus the `real_gpu` ones
"""
import os

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")     # before anything imports numba

import numba  # noqa: E402
import pytest  # noqa: E402
from numba import cuda  # noqa: E402

SIMULATED = bool(numba.config.ENABLE_CUDASIM)
REAL_GPU = not SIMULATED and cuda.is_available()


def pytest_configure(config):
    config.addinivalue_line("markers", "real_gpu: needs a CUDA GPU (skipped under the simulator)")


def pytest_collection_modifyitems(config, items):
    if not SIMULATED and not REAL_GPU:
        skip = pytest.mark.skip(reason="NUMBA_ENABLE_CUDASIM=0 but numba.cuda finds no GPU here; "
                                       "unset it to run these tests in the CUDA simulator")
    elif SIMULATED:
        skip = pytest.mark.skip(reason="needs a real CUDA GPU: run `NUMBA_ENABLE_CUDASIM=0 pytest "
                                       "tests/gpu` on a machine with one (this run uses the simulator)")
    else:
        return
    for item in items:
        if not REAL_GPU and (not SIMULATED or "real_gpu" in item.keywords):
            item.add_marker(skip)


@pytest.fixture(params=[(4, 2, 3), (8, 4, 2)], ids=["block4", "block8"])
def geometry(request, monkeypatch):
    """Small launch geometries (BLOCK, TILE, MAX_BLOCKS): the test sizes then don't divide the block,
    a block's threads loop more than once (grid-stride) and reductions need a second pass."""
    from minigraph.backends import numba_cuda
    block, tile, max_blocks = request.param
    monkeypatch.setattr(numba_cuda, "BLOCK", block)
    monkeypatch.setattr(numba_cuda, "TILE", tile)
    monkeypatch.setattr(numba_cuda, "MAX_BLOCKS", max_blocks)
    return request.param
