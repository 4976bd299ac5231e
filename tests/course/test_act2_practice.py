"""Act 2 notebooks: the solutions run and score full marks, the untouched release scores zero, nothing leaks."""
import pytest

from course_checks import make_tests

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:Warning")  # nbgrader's SQLAlchemy chatter

graded_assignment, test_notebook, test_grading_time, test_release_starts_with_the_welcome_notebook = make_tests("act2_practice")
