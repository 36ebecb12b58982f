"""The checked sample: bad-input policy, storage dtypes, tensors, degenerate samples.

Imports only :mod:`weibull_stats.core`.
"""
