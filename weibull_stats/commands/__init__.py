"""Subcommands of the ``weibull-stats`` command line, one module each."""
