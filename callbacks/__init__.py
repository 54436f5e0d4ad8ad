"""Lightning callbacks of lightning-wgan: what watches and records a run."""

from callbacks.samples import SamplePlot
from callbacks.summary import Summary

__all__ = ["SamplePlot", "Summary"]
