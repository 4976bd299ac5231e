"""The one place for grading limits and course identity defaults.

`nbgrader_config.py` (what nbgrader itself reads) and `settings.Settings` (what our code passes around)
both take their values from here, so a limit is changed in one line. The CLI and the environment
override them per run through `Settings.from_config(**overrides)`.
"""
COURSE_ID = "minigraph-course"

CELL_TIMEOUT_S = 60          # per cell; a longer cell is interrupted and the rest of the notebook still runs
NOTEBOOK_TIMEOUT_S = 600     # whole notebook wall clock: the backstop for SIGINT-proof loops
MEMORY_MB = 2048             # address-space limit of each kernel process (and its cgroup)
MAX_OUTPUT_BYTES = 1_000_000  # per cell, enforced while the kernel streams output (a large figure is ~0.3-0.8 MB)
MAX_LINES = 200              # nbgrader's LimitOutput: lines kept per output in graded notebooks/feedback
MAX_TRACEBACK = 60           # nbgrader's LimitOutput: traceback lines kept

# Sandbox limits the worker applies per notebook when a task does not say otherwise.
MAX_PIDS = 128
DISK_MB = 512
