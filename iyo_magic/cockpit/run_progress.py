"""How a watched run shows its progress (``execute_run(..., wait=True)``): `RunProgress`, what a
run's JSON says (its step, the jobs done of the total, the jobs that failed), and its two views:
text lines, or, in a Jupyter kernel where ipywidgets is installed (the ``form`` extra), a
progress bar with a label. ipywidgets and IPython are imported here only, lazily, when a watched
run is shown in a kernel (docs/architecture.md).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from importlib.util import find_spec
from typing import Any, Callable

#: The states in which a run has ended.
ENDED = ("ok", "error")
#: The states in which a job has ended.
JOB_ENDED = ("ok", "error")


def job_name(job: Mapping[str, Any]) -> str:
    """A job as ``actor!service action`` (ays9's run view names the actor ``actor_name``)."""
    actor = job.get("actor") or job.get("actor_name") or "?"
    return f"{actor}!{job.get('service_name', '?')} {job.get('action_name', '?')}"


class RunProgress:
    """Where a run is: its state, the step under way of all steps, the jobs done of the total,
    and the jobs that failed (as `job_name` names them), in the order they ran."""

    __slots__ = ("key", "state", "step", "steps", "done", "total", "failed")

    def __init__(self, run: Mapping[str, Any]) -> None:
        steps = [step for step in run.get("steps") or [] if isinstance(step, Mapping)]
        jobs = [(step, job) for step in steps for job in step.get("jobs") or [] if isinstance(job, Mapping)]
        self.key = str(run.get("key", "?"))
        self.state = str(run.get("state", "?"))
        self.steps = len(steps)
        self.total = len(jobs)
        self.done = sum(1 for _, job in jobs if job.get("state") in JOB_ENDED)
        self.failed = [job_name(job) for _, job in jobs if job.get("state") == "error"]
        waiting = [step for step, job in jobs if job.get("state") not in JOB_ENDED]
        failing = [step for step, job in jobs if job.get("state") == "error"]
        if self.state == "error" and failing:  # it stopped at the step that failed
            current: Mapping[str, Any] = failing[0]
        elif waiting and not self.ended:  # the step under way
            current = waiting[0]
        else:
            current = steps[-1] if steps else {}
        self.step = current.get("number", 0)

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def line(self) -> str:
        """One line: ``run KEY: step 1 of 2 · 1 of 3 jobs done`` (ended: ``run KEY error: ...``)."""
        jobs = f"{self.done} of {self.total} jobs done"
        if not self.ended:
            return f"run {self.key}: step {self.step} of {self.steps} · {jobs}"
        failed = f" · {len(self.failed)} failed: {', '.join(self.failed)}" if self.failed else ""
        return f"run {self.key} {self.state}: {jobs}{failed}"


class TextProgress:
    """Progress as lines of text: one when the step or the jobs done change, one for each job as
    it fails, one when the run ends."""

    def __init__(self, write: Callable[[str], Any] = print) -> None:
        self.write = write
        self._shown = ""
        self._failed: list[str] = []

    def show(self, progress: RunProgress) -> None:
        for name in progress.failed:
            if name not in self._failed:
                self._failed.append(name)
                self.write(f"run {progress.key}: {name} failed")
        line = progress.line()
        if line != self._shown:
            self._shown = line
            self.write(line)

    def stopped(self, line: str) -> None:
        self.write(line)


class WidgetProgress:
    """Progress as an ipywidgets bar (the jobs done of the total, its description the step) with
    a label (the line), and a second label naming each job that failed, as it fails."""

    def __init__(self) -> None:
        import ipywidgets

        self.bar = ipywidgets.IntProgress(min=0, max=1, value=0, description="step")
        self.label = ipywidgets.Label()
        self.failures = ipywidgets.Label()
        self.box = ipywidgets.VBox([ipywidgets.HBox([self.bar, self.label]), self.failures])
        self._displayed = False

    def show(self, progress: RunProgress) -> None:
        self.bar.max = max(progress.total, 1)
        self.bar.value = progress.done
        self.bar.description = f"step {progress.step}/{progress.steps}"
        self.bar.bar_style = "danger" if progress.failed else ("success" if progress.ended else "")
        self.label.value = progress.line()
        if progress.failed:
            self.failures.value = "failed: " + ", ".join(progress.failed)
        if not self._displayed:  # shown once it has a state: its text form, where widgets are not shown, too
            from IPython.display import display

            display(self.box)
            self._displayed = True

    def stopped(self, line: str) -> None:
        self.bar.bar_style = "warning"
        self.label.value = line
        print(line)  # in the cell's output too: the widget's state may not be saved with the notebook


def in_a_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (an IPython shell with a kernel), without importing IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def view_for_this_front_end() -> TextProgress | WidgetProgress:
    """The widget view in a kernel where ipywidgets is installed; text lines elsewhere."""
    if in_a_kernel() and find_spec("ipywidgets") is not None:
        return WidgetProgress()
    return TextProgress()
