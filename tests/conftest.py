"""Shared test configuration: the Hypothesis profiles.

``ci`` (the default) is derandomized with a bounded number of examples and no deadline,
so that every run of ``make test`` checks the same examples and timing noise on a shared
machine cannot fail a property. Select another profile with ``HYPOTHESIS_PROFILE=dev``
(more, random examples) when hunting for counterexamples locally.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=50,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
