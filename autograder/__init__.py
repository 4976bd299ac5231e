"""Autograding layer on nbgrader 0.9.6: release, sandboxed parallel grading, feedback, export, CI."""
