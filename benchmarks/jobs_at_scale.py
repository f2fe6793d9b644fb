"""What a long list of jobs costs: ``list_jobs()``, its table and ``to_frame()``, at 1,000, 10,000
and 100,000 jobs (a stand-in seeded with ``StandIns(jobs=N)``, as ``iyo-magic serve --jobs N``).

    python benchmarks/jobs_at_scale.py            # full run (a few minutes)
    python benchmarks/jobs_at_scale.py --quick    # smoke check: small lists, few repetitions

Times on shared machines are noise, so the client's figures are ratios of alternating runs, each
against the plainest code that gets the same thing; the others say how they grow with N.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from typing import Callable

import requests
from werkzeug.test import Client

from iyo_magic import LoginRequest, login
from iyo_magic.server import StandIns
from iyo_magic.server.accounts import DEMO
from iyo_magic.server.accounts import DEMO_ORGANIZATION as ORG

ORG_SECRET = DEMO["organizations"][0]["api_keys"][0]["secret"]
PATH = "/ays/repository/production/job"


def alternated(ours: Callable[[], object], theirs: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Median seconds of ``ours`` and ``theirs``, run in turn (drift hits both alike), and their ratio."""
    mine, plain = [], []
    ours(), theirs()  # untimed: caches and connections warm for both
    for _ in range(runs):
        started = time.perf_counter()
        ours()
        mine.append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs()
        plain.append(time.perf_counter() - started)
    return statistics.median(mine), statistics.median(plain), statistics.median(mine) / statistics.median(plain)


def median_seconds(action: Callable[[], object], runs: int) -> float:
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def flattened_by_hand(raw: list[dict]) -> list[dict]:
    """The same rows as `to_frame`'s, as one would write it: each job's fields and its data's."""
    return [{**{k: v for k, v in job.items() if k != "data"}, **job["data"]} for job in raw]


def saved_notebook_bytes(shown: object) -> int:
    """The size of a notebook whose one cell's output is ``shown``'s display, as a kernel sends it."""
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    data, metadata = InteractiveShell.instance().display_formatter.format(shown)
    cell = nbformat.v4.new_code_cell("production.list_jobs()", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", data=data, metadata=metadata, execution_count=1)]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    return len(nbformat.writes(notebook).encode())


def measure(jobs: int, runs: int) -> dict[str, float]:
    with StandIns(jobs=jobs) as servers:
        request = LoginRequest(
            client_id=ORG, base_url=servers.iyo_url, cockpit_url=servers.cockpit_url, public_key=servers.key.public_pem
        )
        result = login(request, ORG_SECRET)
        production = result.cockpit.repository("production")
        plain = requests.Session()
        header = {"Authorization": f"bearer {result.jwt}"}
        url = servers.cockpit_url + PATH
        listed, by_hand, list_ratio = alternated(
            production.list_jobs, lambda: plain.get(url, headers=header, timeout=60).json(), runs
        )
        table = production.list_jobs()
        raw = plain.get(url, headers=header, timeout=60).json()
        assert len(table) == len(raw) == jobs + 8
        import pandas

        framed, frame_by_hand, frame_ratio = alternated(table.to_frame, lambda: pandas.DataFrame(raw), runs)
        _, _, flat_ratio = alternated(table.to_frame, lambda: pandas.DataFrame(flattened_by_hand(raw)), runs)
        html = median_seconds(table._repr_html_, runs)
        wsgi = Client(servers.cockpit)
        standin = median_seconds(lambda: wsgi.get("/api" + PATH, headers=header).get_data(), runs)
        return {
            "list_jobs": listed,
            "requests": by_hand,
            "list ratio": list_ratio,
            "to_frame": framed,
            "DataFrame": frame_by_hand,
            "frame ratio": frame_ratio,
            "flat ratio": flat_ratio,
            "html": html,
            "notebook bytes": saved_notebook_bytes(table),
            "stand-in": standin,
            "answer bytes": len(plain.get(url, headers=header, timeout=60).content),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small lists, few repetitions: a smoke check")
    quick = parser.parse_args().quick
    sizes = (100, 1_000) if quick else (1_000, 10_000, 100_000)
    figures = {n: measure(n, 2 if quick else (21 if n < 100_000 else 9)) for n in sizes}
    first, last = sizes[0], sizes[-1]

    def row(name: str, key: str, shown: Callable[[float], str], goal: str) -> str:
        values = [shown(figures[n][key]) for n in sizes]
        growth = figures[last][key] / figures[first][key]
        return f"| {name} | {' | '.join(values)} | x{growth:,.1f} | {goal} |"

    print(f"iyo_magic at scale, {datetime.date.today()}, Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print(f"| figure | {' | '.join(f'{n:,} jobs' for n in sizes)} | {first:,} to {last:,} | goal |")
    print(f"| --- | {' | '.join('---' for _ in sizes)} | --- | --- |")
    ms = lambda seconds: f"{seconds * 1000:,.1f} ms"  # noqa: E731
    print(row("list_jobs() / requests + .json()", "list ratio", lambda r: f"{r:.2f}", "<= 1.10"))
    print(row("list_jobs()", "list_jobs", ms, "(measured)"))
    print(row("to_frame() / pandas.DataFrame(raw list)", "frame ratio", lambda r: f"{r:.2f}", "<= 1.10"))
    print(row("to_frame() / DataFrame of the same flat rows by hand", "flat ratio", lambda r: f"{r:.2f}", "(measured)"))
    print(row("to_frame()", "to_frame", ms, "(measured)"))
    print(row("table's HTML display (_repr_html_)", "html", ms, "flat"))
    print(row("saved notebook with the display", "notebook bytes", lambda b: f"{b / 1000:,.0f} kB", "flat"))
    print(row("stand-in's own time per request", "stand-in", ms, "below list_jobs()"))
    print(row("the answer (JSON)", "answer bytes", lambda b: f"{b / 1e6:,.2f} MB", "(measured)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
