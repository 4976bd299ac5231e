"""The course notebooks as Python data: one module per assignment, read by course/build_notebooks.py."""
