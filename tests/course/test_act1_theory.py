"""Act 1 notebooks: the solutions run and score full marks, the untouched release scores zero, nothing leaks."""
import pytest

from course_checks import make_tests

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's SQLAlchemy chatter

graded_assignment, test_notebook, test_grading_time, test_release_starts_with_the_welcome_notebook = make_tests("act1_theory")


def test_the_rewrites_notebook_runs_a_graph_on_the_gpu_and_shows_its_kernel(graded_assignment):
    """Issue #16.6: the course runs a graph with device='cuda' (the simulator without a GPU) and shows the
    generated kernel; the GPU and the CPU agree on the stabilised log s(v) at v = -800..800."""
    nb = graded_assignment.graded["solution"].notebooks["3_graph_rewrites"]
    cell = next(c for c in nb.cells if c.cell_type == "code" and "GPU_DEMO" in c.source)
    text = "".join(o.get("text", "") for o in cell.get("outputs", []))
    assert "backend: cuda" in text, text[-2000:]
    assert "def kernel(" in text and "cuda.grid(1)" in text and "softplus" in text, text[-2000:]
    lines = {line[:4]: line for line in text.splitlines() if line.startswith(("GPU:", "CPU:"))}
    assert lines["GPU:"].split(":", 1)[1] == lines["CPU:"].split(":", 1)[1], lines
    assert "sum = -840.693" in lines["GPU:"], lines
