"""Cells that several notebooks share."""
from build_notebooks import code, md

IMPORTS = code("""
    import numpy as np
    import minigraph as theano
    import minigraph.tensor as T
    from minigraph import function, shared, pp
""")

HOW_TO = md("""
    **How this notebook works.** Run the cells from top to bottom (Shift+Enter). A cell that says
    `# YOUR CODE HERE` is yours to fill in. The cell right after it is a *self-check*: run it, and it either
    congratulates you or tells you what it expected, what it got, and where to look. When your work is graded,
    the same cells run again with a few more checks (other shapes, other values, gradients).
""")

GRADING_NOTE = md("""
    **Training time.** When the autograder runs this notebook it sets the environment variable
    `NBGRADER_EXECUTION`; the training loops below then run fewer steps so grading stays quick. Nothing that is
    graded depends on the exact number of steps.
""")
