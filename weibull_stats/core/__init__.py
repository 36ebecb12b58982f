"""Seeds, options, progress, formatting, displays and constants: the bottom layer.

Imports no other layer of the package.
"""
