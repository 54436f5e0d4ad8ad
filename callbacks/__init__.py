"""Lightning callbacks of lightning-wgan: what watches and records a run."""

from callbacks.ema import GeneratorEMA
from callbacks.monitor import GradNormMonitor
from callbacks.progress import ProgressBar
from callbacks.quality import ImageQuality
from callbacks.reliability import Checkpoint, FiniteGuard, Preemption
from callbacks.samples import SamplePlot
from callbacks.summary import Summary

__all__ = [
    "Checkpoint", "FiniteGuard", "GeneratorEMA", "GradNormMonitor", "ImageQuality", "Preemption", "ProgressBar", "SamplePlot", "Summary",
]
