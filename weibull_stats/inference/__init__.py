"""Intervals, bootstrap, goodness of fit, nulls, model comparison and decisions.

Imports the estimators and the layers below them.
"""
