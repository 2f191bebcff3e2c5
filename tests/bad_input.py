"""What every bad-input table checks, in one place: the exception type, a short message that names the fix.

Each table (tests/test_bad_inputs*.py, tests/test_site.py) maps what the learner did to
(call, exception type, regex the message must match); its parametrized test calls assert_clear_error.
"""

import pytest


def assert_clear_error(case: tuple, arg) -> None:
    call, error, message = case
    with pytest.raises(error, match=message) as caught:
        call(arg)
    assert "Traceback" not in str(caught.value)
    assert len(str(caught.value)) < 1000, "one or two sentences, not a dump"
