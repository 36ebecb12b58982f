"""Seeds, options, progress, formatting, displays, constants and the compiled kernels
(:mod:`weibull_stats.core.kernels`, numba, imported on first use): the bottom layer.

Imports no other layer of the package.
"""
