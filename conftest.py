"""Doctest setup of the package's docstrings, declared once here.

Every example may assume ``import numpy as np`` and ``import weibull_stats as ws`` (the
numpy and pandas convention), and figures are drawn on matplotlib's Agg backend (no
display), so the examples show only what they are about.
"""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
import pytest

import weibull_stats as ws

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _example_names(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace["np"] = np
    doctest_namespace["ws"] = ws
