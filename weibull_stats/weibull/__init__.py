"""The Weibull law's own mathematics: plot ordinates and their rank sums.

Imports only the layers below it (core, sample).
"""
