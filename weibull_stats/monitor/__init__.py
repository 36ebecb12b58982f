"""Watching training as it happens: :class:`Monitor` fits every weight matrix of a model being trained.

It imports the scan (``scanning``), the validation gate (``validation``) and the report
(``report``), a layer beside ``workflow``; torch, transformers and tensorboard only when the
model, the Trainer callback or the TensorBoard writer is used.
"""

from weibull_stats.monitor.integrations import scalars
from weibull_stats.monitor.watch import Monitor, MonitorError, MonitorWarning

__all__ = ["Monitor", "MonitorError", "MonitorWarning", "scalars"]
