"""The scan's report: the Markdown document, its tables, exports of results.

Imports scanning and below; :mod:`weibull_stats.plotting` sits beside it.
"""
