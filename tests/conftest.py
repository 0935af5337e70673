"""Settings shared by every test module.

Hypothesis examples have no deadline: the suite shares the CPUs between pytest-xdist's workers, LibreOffice and
PostgreSQL (scripts/test.sh), and an example that is slow there is not wrong. Speed is proven by ``bench/``, not
by timed tests. A test's own ``@settings(deadline=…)`` still applies.
"""

from hypothesis import settings

settings.register_profile("xlcredit", deadline=None)
settings.load_profile("xlcredit")
