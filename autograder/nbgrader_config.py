"""nbgrader configuration for the course — how nbgrader grades: timeouts, output limits, code stubs.

`python -m autograder` loads this file (it is a normal nbgrader/traitlets config file, so it also
works with the plain `nbgrader` command: `nbgrader ... --config autograder/nbgrader_config.py`).
Paths are filled in at run time by `autograder.settings` because they depend on where the repository
is checked out; everything here is about *how* notebooks are graded.
"""

from autograder import defaults  # the numbers live there, shared with autograder.settings

c = get_config()  # noqa: F821  (injected by traitlets' config loader)

c.CourseDirectory.course_id = defaults.COURSE_ID

# Per-cell timeout (seconds). A cell that runs longer is interrupted; the rest of the notebook still runs.
c.ExecutePreprocessor.timeout = defaults.CELL_TIMEOUT_S
c.ExecutePreprocessor.interrupt_on_timeout = True

# Outputs beyond these limits are cut in the graded notebook and the feedback.
c.LimitOutput.max_lines = defaults.MAX_LINES
c.LimitOutput.max_traceback = defaults.MAX_TRACEBACK

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Deleted grade cells are put back by our own sanitizer (autograder.prepare), which knows the cell order.
c.OverwriteCells.add_missing_cells = False

# Our additions (read by autograder.settings; nbgrader ignores unknown sections).
c.Autograder.memory_mb = defaults.MEMORY_MB
c.Autograder.max_output_bytes = defaults.MAX_OUTPUT_BYTES
c.Autograder.notebook_timeout = defaults.NOTEBOOK_TIMEOUT_S
