"""`jobs.timeline()` and `runs.timeline()`: the history drawn over time, a row per service (or run
and step), coloured by state, from the stand-in over real HTTP; in a real kernel it displays once;
without matplotlib it is one line naming the extra."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import pytest

from iyo_magic import CockpitError
from iyo_magic.cockpit.timeline import STATE_COLOURS

from .conftest import ORG, ORG_SECRET
from .kernel import Kernel, text_of

pytest.importorskip("matplotlib")  # the plot extra: in the test extra


@pytest.fixture()
def production(ip, iyo_env):
    ip.run_line_magic("iyo_token", f"--aud {ORG}")
    return ip.user_ns["iyo_cockpit"].repository("production")


def marks(figure) -> dict[str, list[tuple[float, float]]]:
    """Each state's marks (x as matplotlib dates, y as the row) as the figure draws them."""
    axes = figure.axes[0]
    return {line.get_label().split(" (")[0]: list(zip(line.get_xdata(), line.get_ydata())) for line in axes.lines}


def test_jobs_draw_a_row_per_service_coloured_by_state(production):
    from matplotlib import dates, pyplot
    from matplotlib.figure import Figure

    jobs = production.list_jobs()
    figure = jobs.timeline()
    assert isinstance(figure, Figure) and figure.number not in pyplot.get_fignums()  # not pyplot's to show again
    axes = figure.axes[0]
    rows = [label.get_text() for label in axes.get_yticklabels()]
    assert rows == ["app.web!shop", "node.ovc!web1", "node.ovc!web2", "sshkey!ops"]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["ok (6)", "new (1)", "error (1)"]  # processChange x4, installs: 2 ok, 1 error, 1 never ran
    drawn = marks(figure)
    failed = next(job for job in jobs if job["state"] == "error")
    (x, y), *_ = drawn["error"]
    assert rows[int(y)] == "node.ovc!web2"
    assert dates.num2date(x).timestamp() == pytest.approx(failed["data"]["epoch"], abs=0.01)
    colours = {line.get_label().split(" (")[0]: line.get_color() for line in axes.lines}
    assert colours == {state: STATE_COLOURS[state] for state in ("ok", "new", "error")}
    assert "8 jobs, 1 failed" in axes.get_title(loc="left") and axes.get_xlabel() == "time (UTC)"
    picture = io.BytesIO()
    figure.savefig(picture, format="png")
    assert picture.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_filtered_list_and_single_jobs_draw_too(production):
    failed = production.list_jobs(state="error")
    assert [label.get_text() for label in failed.timeline().axes[0].get_yticklabels()] == ["node.ovc!web2"]
    from iyo_magic.cockpit.results import Table

    job = production.get_job(failed[0]["jobid"])
    assert list(marks(Table([job]).timeline())) == ["error"]


def test_runs_draw_a_row_each_and_a_run_its_steps(production):
    runs = production.list_runs()
    listing = runs.timeline()
    assert [label.get_text() for label in listing.axes[0].get_yticklabels()] == [f"run {runs[0]['key']}"]
    assert list(marks(listing)) == ["error"] and "1 run, 1 failed" in listing.axes[0].get_title(loc="left")
    run = production.get_run(runs[0]["key"])
    steps = run.timeline()
    rows = [label.get_text() for label in steps.axes[0].get_yticklabels()]
    assert rows == [f"run {run['key']}", "step 1", "step 2", "step 3"]
    drawn = marks(steps)
    assert [rows[int(y)] for _, y in drawn["error"]] == [f"run {run['key']}", "step 2"]  # the run, and web2's install
    assert "(their steps: 4 jobs)" in steps.axes[0].get_title(loc="left")


def test_a_list_without_epochs_or_nothing_at_all(production):
    no_epochs = production.list_jobs(fields="actor,service")
    with pytest.raises(CockpitError, match="^timeline: a job without an epoch .*fields that include epoch") as error:
        no_epochs.timeline()
    assert "\n" not in str(error.value)
    nothing = production.list_jobs(state="disabled")
    assert nothing == [] and nothing.timeline().axes[0].texts[0].get_text() == "no jobs"


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment | env,
    )


def test_without_matplotlib_one_line_names_the_extra():
    out = python("""
        import sys
        sys.modules["matplotlib"] = None  # as without the plot extra
        from iyo_magic.cockpit.results import Table
        try:
            Table([{"jobid": "1", "state": "ok", "data": {"epoch": 1}}]).timeline()
        except ImportError as missing:
            print(type(missing).__name__, missing)
    """)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["MissingExtra timeline needs matplotlib: pip install 'iyo_magic[plot]'"]


def test_matplotlib_waits_for_the_first_picture_and_draws_with_agg_without_a_display(iyo_env):
    out = python(
        f"""
        import sys
        from IPython.core.interactiveshell import InteractiveShell
        ip = InteractiveShell.instance()
        ip.run_line_magic("load_ext", "iyo_magic")
        ip.run_line_magic("iyo_token", "--aud {ORG}")
        jobs = ip.user_ns["iyo_cockpit"].list_jobs("production")
        jobs._repr_html_(), jobs.to_frame()
        print("before:", "matplotlib" in sys.modules)
        figure = jobs.timeline()
        import matplotlib
        print("after:", matplotlib.get_backend().lower())
        """,
        **iyo_env.environment(),
        IYO_CLIENT_ID=ORG,
        IYO_CLIENT_SECRET=ORG_SECRET,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines()[-2:] == ["before: False", "after: agg"]


@pytest.mark.kernel
def test_in_a_kernel_the_picture_displays_once(iyo_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    env.update(iyo_env.environment(), IYO_CLIENT_ID=ORG, IYO_CLIENT_SECRET=ORG_SECRET)
    kernel = Kernel(env)
    try:
        kernel.run(f"%load_ext iyo_magic\n%iyo_token --aud {ORG}")
        production = 'iyo_cockpit.repository("production")'
        for cell in (f"{production}.list_jobs().timeline()", f"{production}.list_runs().timeline()"):
            outputs = kernel.run(cell)
            pictures = [output for output in outputs if "image/png" in output.get("data", {})]
            assert len(pictures) == 1 and pictures[0]["output_type"] == "execute_result", text_of(outputs)
    finally:
        kernel.close()
