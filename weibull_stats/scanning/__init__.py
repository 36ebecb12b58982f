"""Scans of checkpoints: settings, plan, journal, one tensor's fit, outputs, decisions, Dask.

Imports checkpoints, inference and the layers below them.
"""
