"""
pytest configuration shared by all tests.

pytest integrates with trial (expected failures of C{todo} tests reported as
xfail, unexpected successes as failures) only if L{twisted.trial.unittest}
is imported before pytest's C{pytest_configure}; importing it here, in the
initial conftest, makes sure of that.
"""

import twisted.trial.unittest  # noqa: F401
