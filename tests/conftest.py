"""
pytest configuration shared by all tests.

pytest integrates with trial (expected failures of C{todo} tests reported as
xfail, unexpected successes as failures) only if L{twisted.trial.unittest}
is imported before pytest's C{pytest_configure}; importing it here, in the
initial conftest, makes sure of that.
"""

import twisted.trial.unittest  # noqa: F401


def pytest_configure(config):
    """
    Run the tests inside C{_trial_temp/} of the checkout, as trial does, so
    that files made with C{TestCase.mktemp()} never land in the source tree.
    Tests find the project's own files relative to their C{__file__}.
    """
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    workdir = os.path.join(root, "_trial_temp")
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
