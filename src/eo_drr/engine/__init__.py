"""The job engine: one path from a validated job to its outputs, under every face.

``plan -> lock -> stage -> compute context -> run (whole or tiled) -> manifest and STAC
catalogue -> commit -> result``, with no terminal I/O: progress leaves as
:class:`~eo_drr.engine.events.Event` values through one callable, which the command line
renders with rich (or plain lines when not on a terminal) and a notebook with tqdm.
"""

from eo_drr.engine.events import Event, Reporter, log_reporter, tqdm_reporter
from eo_drr.engine.result import JobResult
from eo_drr.engine.run import JobPlan, plan_job, run_job

__all__ = [
    "Event",
    "JobPlan",
    "JobResult",
    "Reporter",
    "log_reporter",
    "plan_job",
    "run_job",
    "tqdm_reporter",
]
