"""Settings shared by every test module.

Hypothesis examples have no deadline: the suite shares the CPUs between pytest-xdist's workers, LibreOffice and
PostgreSQL (scripts/test.sh), and an example that is slow there is not wrong. Speed is proven by ``bench/``, not
by timed tests. For the same reason the "too slow" health check is off. A test's own ``@settings(…)``
still applies.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("xlcredit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("xlcredit")
