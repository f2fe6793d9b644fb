"""What the Cockpit operations return: the API's JSON as plain lists and dicts (subclasses, so
``json.dumps``, indexing and comprehensions work as usual) that display as HTML in a notebook:

* a list as a table (a ``data`` object becomes columns; epochs are shown as UTC times);
* a job with its logs; a run with its steps and their jobs' states; a service with its state,
  data, actions and links; anything else, and any of these in a shape the API does not give
  (``logs`` a string, ``data`` a list), as a table of its fields.

``.to_frame()`` gives a pandas DataFrame where pandas is installed (it is not a dependency);
``.timeline()`` draws a list of jobs or runs (or a run's steps) over time, coloured by state, where
matplotlib is (the ``plot`` extra; ``cockpit.timeline``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..durations import utc_time
from ..errors import CockpitError, MissingExtra
from .timeline import STATE_COLOURS

if TYPE_CHECKING:  # for annotations only: requests is imported by whoever sends the request
    import requests
    from matplotlib.figure import Figure

#: A table shows at most this many rows.
SHOWN_ROWS = 100


def result_of(response: requests.Response, shows: str) -> Any:
    """The answer's JSON as a displayable list or dict; None for an empty answer (204)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        data = response.json()
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json reads
        raise CockpitError(
            f"the Cockpit answered {response.status_code} with something that is not JSON", None
        ) from None
    if isinstance(data, list):
        return Table(data)
    if isinstance(data, dict):
        return {"job": Job, "run": Run, "service": Service}.get(shows, Record)(data)
    return data


class Table(list[Any]):
    """A list of the API's objects; displays as a table (its first rows)."""

    def rows(self) -> list[dict[str, Any]]:
        """Each item as one flat row: a ``data`` object's fields become columns."""
        return [_flat(item) for item in self]

    # Any, not DataFrame: pandas is optional, and its stubs (pandas-stubs) are for Python 3.11 and later.
    def to_frame(self) -> Any:
        """A pandas DataFrame of `rows` (needs pandas)."""
        try:
            import pandas
        except ModuleNotFoundError:
            raise MissingExtra("to_frame", "pandas") from None
        columns = self._columns()
        return pandas.DataFrame(self.rows() if columns is None else columns)

    def _columns(self) -> dict[str, list[Any]] | None:
        """`rows` as columns, when every item has the first one's fields (and ``data`` fields), as
        in a listing: a column at a time is several times quicker than a row at a time. Else None."""
        first = self[0] if self else None
        if not isinstance(first, dict):
            return None
        outer, data = first.keys(), first.get("data")
        inner = data.keys() if isinstance(data, dict) else None
        for item in self:
            if not isinstance(item, dict) or item.keys() != outer:
                return None
            if inner is not None and not (isinstance(item["data"], dict) and item["data"].keys() == inner):
                return None
        columns = {key: [item[key] for item in self] for key in outer if key != "data"}
        for key in inner or ():
            columns[key] = [item["data"][key] for item in self]  # as in a row, data's value wins
        return columns

    def _repr_html_(self) -> str:
        if not self:
            return "<em>none</em>"
        shown = [_flat(item) for item in self[:SHOWN_ROWS]]  # only these: a long list costs no more
        columns = list(dict.fromkeys(key for row in shown for key in row))
        caption = f"{len(self)} rows"
        if len(self) > SHOWN_ROWS:  # a saved notebook should not carry thousands of jobs
            caption = f"the first {SHOWN_ROWS} of {len(self)} rows; all are in the list (or .to_frame())"
        return _table(columns, [[row.get(c, "") for c in columns] for row in shown], caption)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's text display (a saved notebook keeps it beside the HTML): a long list shows
        its first rows too, not a thousand."""
        if cycle:
            printer.text("[...]")
        elif len(self) <= SHOWN_ROWS:
            printer.pretty(list(self))
        else:
            printer.pretty(self[:SHOWN_ROWS])
            printer.text(f"\n(the first {SHOWN_ROWS} of {len(self)} items; all are in the list)")

    def timeline(self) -> Figure:
        """The jobs over time, a row per service, coloured by state; or, for a list of runs, the
        runs (and the steps of those that have them). A matplotlib figure (needs the ``plot`` extra)."""
        from .timeline import jobs_figure, runs_figure

        items = [item for item in self if isinstance(item, dict)]
        if items and all(_is_run(item) for item in items):
            return runs_figure(items)
        return jobs_figure(items)


def _flat(item: Any) -> dict[str, Any]:
    """One row: an object's fields, its ``data`` object's fields among them; a value as ``value``."""
    if not isinstance(item, dict):
        return {"value": item}
    row = {k: v for k, v in item.items() if k != "data"}
    if isinstance(item.get("data"), dict):
        row.update(item["data"])
    return row


def _is_run(item: dict[str, Any]) -> bool:
    """Whether ``item`` is a run (``list_runs``' key, epoch and state, or a run with its steps)."""
    return "steps" in item or not ({"jobid", "action_name", "data"} & item.keys()) and "key" in item


class Record(dict[str, Any]):
    """One of the API's objects; displays as a table of its fields."""

    def _repr_html_(self) -> str:
        return _table(["field", "value"], [[k, v] for k, v in self.items()])


def _objects(value: Any) -> bool:
    """Whether ``value`` is a list of the API's objects (dicts), or missing (None)."""
    return value is None or (isinstance(value, list) and all(isinstance(item, dict) for item in value))


class Job(Record):
    """A job: who, what, its state, and its logs."""

    def _repr_html_(self) -> str:
        if not _objects(self.get("logs")):  # a shape the Cockpit API does not give
            return super()._repr_html_()
        head = f"{self.get('actor', '?')}!{self.get('service_name', '?')} {self.get('action_name', '?')}"
        logs = [
            [log.get("epoch"), log.get("level"), log.get("category"), log.get("log")] for log in self.get("logs") or []
        ]
        return (
            f"<div class='iyo-job'><b>job {escape(str(self.get('key', '')))}</b>: {escape(head)} "
            f"{_state(self.get('state'))} at {escape(_time(self.get('epoch')))}"
            + (_table(["epoch", "level", "category", "log"], logs, "logs") if logs else "<br><em>no logs</em>")
            + "</div>"
        )


class Run(Record):
    """A run: its state and its steps, each with its jobs' states."""

    def timeline(self) -> Figure:
        """The run and its steps' jobs over time, coloured by state (needs the ``plot`` extra)."""
        from .timeline import runs_figure

        return runs_figure([self])

    def _repr_html_(self) -> str:
        steps = self.get("steps")
        if not _objects(steps) or not all(_objects(step.get("jobs")) for step in steps or []):
            return super()._repr_html_()
        rows = [
            [
                step.get("number"),
                f"{job.get('actor')}!{job.get('service_name')}",
                job.get("action_name"),
                job.get("state"),
                job.get("key"),
            ]
            for step in steps or []
            for job in step.get("jobs") or []
        ]
        note = ""
        if self.get("state") == "new":
            note = (
                f"<br><em>a simulation: nothing was executed; execute_run({escape(repr(self.get('key')))}) "
                "executes it</em>"
            )
        shown = (
            _table(["step", "service", "action", "state", "job"], rows, "steps")
            if rows
            else "<br><em>nothing to run</em>"
        )
        return (
            f"<div class='iyo-run'><b>run {escape(str(self.get('key', '')))}</b> {_state(self.get('state'))} "
            f"at {escape(_time(self.get('epoch')))}{note}{shown}</div>"
        )


class Service(Record):
    """A service: its state, data, actions' states, producers and consumers."""

    def _repr_html_(self) -> str:
        lists = ("actions", "producers", "consumers", "children")
        if not all(_objects(self.get(kind)) for kind in lists) or not isinstance(self.get("data") or {}, dict):
            return super()._repr_html_()
        actions = [[a.get("name"), a.get("state")] for a in self.get("actions") or []]
        links = [
            [kind, ", ".join(f"{p.get('role')}!{p.get('name')}" for p in self.get(kind) or [])]
            for kind in ("producers", "consumers", "children")
        ]
        data = [[k, v] for k, v in (self.get("data") or {}).items()]
        return (
            f"<div class='iyo-service'><b>{escape(str(self.get('role')))}!{escape(str(self.get('name')))}</b> "
            f"{_state(self.get('state'))} (actor {escape(str(self.get('actor', '')))}, key "
            f"{escape(str(self.get('key', '')))})"
            + _table(["data", "value"], data)
            + _table(["action", "state"], actions)
            + _table(["link", "services"], links)
            + "</div>"
        )


def _table(columns: list[str], rows: list[list[Any]], caption: str = "") -> str:
    head = "".join(f"<th style='text-align:left'>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{_cell(c, v)}</td>" for c, v in zip(columns, row)) + "</tr>"
        for row in rows
    )
    shown = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return f"<table class='iyo-table'>{shown}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(column: str, value: Any) -> str:
    if column == "state":
        return _state(value)
    if "epoch" in column.lower() and _time(value) != "?":
        return escape(_time(value))
    if isinstance(value, (dict, list)):
        return f"<code>{escape(json.dumps(value))}</code>"
    return escape("" if value is None else str(value))


def _state(state: Any) -> str:
    colour = STATE_COLOURS.get(str(state), "#333")
    return f"<span class='iyo-state' style='color:{colour};font-weight:bold'>{escape(str(state))}</span>"


def escape(text: str) -> str:
    """HTML-escaped ``text`` (``html`` is imported when something is displayed, not before)."""
    from html import escape as html_escape

    return html_escape(text)


def _time(epoch: Any) -> str:
    """An epoch as a UTC time; '?' for what is none (0, text, or beyond the calendar)."""
    if not isinstance(epoch, (int, float)) or isinstance(epoch, bool) or not epoch > 0:
        return "?"
    try:
        return utc_time(epoch)
    except (OverflowError, OSError, ValueError):
        return "?"
