"""Jobs and runs drawn over time, coloured by state: what ``jobs.timeline()`` and
``runs.timeline()`` return (`cockpit.results`).

Jobs get one row per service; runs one row each, with a row per step below a run that has its
steps (``get_run``). It needs matplotlib (the ``plot`` extra), imported on the first picture,
never with the package. The figure is returned, never shown: a notebook displays it (once: it is
taken out of pyplot's registry, so pyplot does not show it again), a script saves it
(``figure.savefig("jobs.png")``); without a display, matplotlib draws with Agg.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..durations import utc_time
from ..errors import CockpitError, MissingExtra

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Each state's colour, in the tables and the pictures.
STATE_COLOURS = {
    "ok": "#1b7f3b",
    "error": "#b00020",
    "running": "#a87000",
    "scheduled": "#2a62c9",
    "new": "#777777",
    "changed": "#8a4fb5",
    "disabled": "#bbbbbb",
}
OTHER_COLOUR = "#333333"
#: The legend's order, and the drawing's: what comes later lies on top, so failures show.
STATES = ("ok", "new", "changed", "disabled", "scheduled", "running", "error")
WIDTH = 10.0  # inches
ROW_HEIGHT = 0.34
MOST_HEIGHT = 16.0

#: One mark: its row (an index), its epoch, its state.
Mark = tuple[int, float, str]


def jobs_figure(jobs: Iterable[Mapping[str, Any]]) -> Figure:
    """The jobs (a ``list_jobs()`` listing, or ``get_job`` answers) over time, a row per service."""
    drawn = [(_service(job), _epoch(job, "job"), str(job.get("state"))) for job in jobs]
    rows = sorted({row for row, _, _ in drawn})
    index = {row: number for number, row in enumerate(rows)}
    marks = [(index[row], epoch, state) for row, epoch, state in drawn]
    failed = sum(state == "error" for _, _, state in marks)
    return _figure(rows, marks, f"{len(marks):,} jobs, {failed:,} failed", "no jobs")


def runs_figure(runs: Iterable[Mapping[str, Any]]) -> Figure:
    """The runs (a ``list_runs()`` listing, or ``get_run`` answers) over time, a row each, and a
    row per step under a run that has its steps."""
    rows: list[str] = []
    marks: list[Mark] = []
    states: Counter[str] = Counter()
    for run in runs:
        rows.append(f"run {run.get('key', '?')}")
        marks.append((len(rows) - 1, _epoch(run, "run"), str(run.get("state"))))
        states[str(run.get("state"))] += 1
        for step in run.get("steps") or []:
            rows.append(f"step {step.get('number', '?')}")
            marks += [(len(rows) - 1, _epoch(job, "job"), str(job.get("state"))) for job in step.get("jobs") or []]
    runs_count = sum(states.values())
    title = f"{runs_count:,} run{'s' if runs_count != 1 else ''}, {states['error']:,} failed"
    if len(marks) > runs_count:
        title += f" (their steps: {len(marks) - runs_count:,} jobs)"
    return _figure(rows, marks, title, "no runs")


def _fields(item: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    """Where a job's fields are: its ``data`` in a listing, the job itself from ``get_job``."""
    data = item.get("data")
    return data if kind == "job" and isinstance(data, dict) else item


def _service(job: Mapping[str, Any]) -> str:
    """``actor!service`` of a job of a listing (its data's ``actor`` and ``service``) or of a Job."""
    data = _fields(job, "job")
    actor = data.get("actor")
    service = data.get("service", data.get("service_name", "?"))
    return f"{actor}!{service}" if actor else str(service)


def _epoch(item: Mapping[str, Any], kind: str) -> float:
    epoch = _fields(item, kind).get("epoch")
    if not isinstance(epoch, (int, float)) or isinstance(epoch, bool):
        raise CockpitError(
            f"timeline: a {kind} without an epoch ({kind}s are drawn at their epoch; list them with "
            "the default fields, or fields that include epoch)",
            None,
        )
    return float(epoch)


def _figure(rows: list[str], marks: list[Mark], title: str, empty: str) -> Figure:
    pyplot = _pyplot()
    from matplotlib import dates

    height = min(MOST_HEIGHT, 1.6 + ROW_HEIGHT * max(len(rows), 2))
    figure: Figure = pyplot.figure(figsize=(WIDTH, height), layout="constrained")
    pyplot.close(figure)  # out of pyplot's registry: the notebook shows the returned figure, once
    axes = figure.add_subplot()
    if not marks:
        axes.text(0.5, 0.5, empty, ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    zero = dates.date2num(datetime(1970, 1, 1, tzinfo=timezone.utc))
    counts = Counter(state for _, _, state in marks)
    order = [s for s in STATES if s in counts] + sorted(s for s in counts if s not in STATES)
    for state in order:
        drawn = [(zero + epoch / 86400, row) for row, epoch, mark_state in marks if mark_state == state]
        axes.plot(
            [x for x, _ in drawn],
            [y for _, y in drawn],
            linestyle="none",
            marker="|",
            markersize=13,
            markeredgewidth=2.5 if state == "error" else 1.5,
            color=STATE_COLOURS.get(state, OTHER_COLOUR),
            label=f"{state} ({counts[state]:,})",
        )
    axes.set_yticks(range(len(rows)), rows, fontsize=9)
    axes.set_ylim(len(rows) - 0.5, -0.5)  # the first row on top
    locator = dates.AutoDateLocator(tz=timezone.utc)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, tz=timezone.utc))
    epochs = [epoch for _, epoch, _ in marks]
    first, last = min(epochs), max(epochs)
    margin = max((last - first) * 0.02, 60.0)
    axes.set_xlim(zero + (first - margin) / 86400, zero + (last + margin) / 86400)
    axes.set_xlabel("time (UTC)")
    axes.grid(axis="x", color="#dddddd")
    axes.set_axisbelow(True)
    axes.set_title(f"{title}: {utc_time(first)} to {utc_time(last)}", loc="left", fontsize=10)
    figure.legend(loc="outside right upper", title="state", frameon=False, fontsize=9)
    return figure


def _pyplot() -> Any:
    """matplotlib's pyplot; without a display or a chosen backend, matplotlib itself draws with Agg."""
    try:
        import matplotlib.pyplot
    except ModuleNotFoundError as missing:
        if not (missing.name or "").startswith("matplotlib"):
            raise
        raise MissingExtra("timeline", "matplotlib") from None
    return matplotlib.pyplot
