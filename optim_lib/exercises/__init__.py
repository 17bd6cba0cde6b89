"""Check a learner's own update rule against optim_lib's (see :mod:`.checking`)."""

from .checking import ATOL, EXERCISES, RTOL, CheckResult, Exercise, Mistake, Range, check_update

__all__ = ["check_update", "CheckResult", "EXERCISES", "Exercise", "Mistake", "Range", "RTOL", "ATOL"]
