"""The Weibull law's own mathematics, each formula defined once: the law and its plot
(:mod:`.law`), sums of plot ordinates over ranks (:mod:`.rank_sums`), the plot's least-squares
line (:mod:`.lines`), sorted uniforms from exponential spacings (:mod:`.spacings`) and the law
on a 16-bit grid (:mod:`.cells`).

Imports only the layers below it (core, sample).
"""
