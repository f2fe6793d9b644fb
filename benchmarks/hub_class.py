"""A class at scale (issue 21): many hub users log in through a real JupyterHub at once.

    python benchmarks/hub_class.py                       # 200 users, both ways (a few minutes)
    python benchmarks/hub_class.py --users 3 --rounds 1  # smoke check
    python benchmarks/hub_class.py --save benchmarks/hub_class.json

For each way of ``configure_class`` a real hub (tests/hub_class.py's ClassHub: configurable-http-proxy,
the ItsYou.online stand-in as a hub service) gets its users and their API tokens through its REST API
(an admin service's token). Then all users log in at once, each with a browser of its own (an HTTP
client with its own cookies that follows the redirects; the stand-in's login and consent pages are
played by DemoUser):

* broker (``hub_login=False``, the hub's own login a DummyAuthenticator): the simulated kernel is
  the magic's own `BrokerStep` with the user's API token (``POST logins``, then ``GET logins/<id>``);
  the browser, logged in to the hub, opens the start link, logs in at the stand-in and comes back to
  the broker's callback. Time: from the kernel's first request to the access token in its hands.
* hub login (``hub_login=True``): ``/hub/oauth_login`` → the stand-in → ``/hub/oauth_callback``,
  whose redirect ends it (no server is spawned). Time: from the first request to that redirect.
* direct, in the same run, against the same stand-in (its own port: no hub, no proxy): the same
  Authorization Code flow, DemoUser and ``exchange_code`` with the secret, as many at once; and
  again through the hub's proxy, the way both hub ways' browsers reach the stand-in.

Each way starts with one untimed round of direct logins (each user's consent, given once); then
direct, direct via the proxy and the way's rounds alternate. CPU seconds are each process's own
(user + system) in each of the way's rounds; memory is the peak resident size (VmHWM); the accept
queues of the processes' listening sockets are sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import psutil
import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

ROOT = Path(__file__).resolve().parents[1]
#: Where the tests' setup installs configurable-http-proxy, if it is not on PATH.
CHP_BIN = Path("/tmp/chp-tools/node_modules/.bin")
#: A browser's patience for one answer, and a kernel's for the whole login.
PATIENCE = 120.0
REDIRECTS = (301, 302, 303, 307, 308)
#: Seconds between samples of memory and accept queues (each costs this process a few ms).
SAMPLE_EVERY = 0.2


def new_browser() -> requests.Session:
    """A browser of its own: its cookies, navigation's header, and, as browsers do, one retry of
    a GET whose kept-alive connection the server had just closed (the proxy closes idle ones
    after 5 s)."""
    browser = requests.Session()
    browser.headers["Sec-Fetch-Mode"] = "navigate"
    retry = Retry(total=1, connect=1, read=1, status=0, redirect=0, other=0, allowed_methods={"GET"})
    browser.mount("http://", HTTPAdapter(max_retries=retry))
    return browser


def find_proxy() -> None:
    if shutil.which("configurable-http-proxy") is None and (CHP_BIN / "configurable-http-proxy").exists():
        os.environ["PATH"] = f"{CHP_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    if shutil.which("configurable-http-proxy") is None:
        sys.exit(
            "hub_class.py needs configurable-http-proxy: npm install --prefix /tmp/chp-tools configurable-http-proxy"
        )


find_proxy()
sys.path.insert(0, str(ROOT))  # tests.hub_class: the tests' real hub

from iyo_magic import LoginRequest  # noqa: E402
from iyo_magic.browser.broker import BrokerStep  # noqa: E402
from iyo_magic.oauth import protocol  # noqa: E402
from iyo_magic.oauth.transport import Transport  # noqa: E402
from iyo_magic.server.demo_user import DemoUser  # noqa: E402
from tests.hub_class import ORG, SECRET, ClassHub  # noqa: E402

SCOPES = (f"user:memberof:{ORG}",)


class Failed(Exception):
    """One login's failure, said without its query strings (they hold codes and states)."""


def quiet(text: str) -> str:
    return re.sub(r"\?\S*", "?…", text)[:160]


def at_once(work, users: list[str]) -> tuple[list[tuple[float, str]], float]:
    """``work(user)`` for every user, all threads released together; each (seconds, failure or '')."""
    barrier = threading.Barrier(len(users))

    def timed(user: str) -> tuple[float, str]:
        barrier.wait()
        started = time.perf_counter()
        try:
            work(user)
        except Exception as error:  # every failure is counted, with its reason
            return time.perf_counter() - started, quiet(f"{type(error).__name__}: {error}")
        return time.perf_counter() - started, ""

    started = time.perf_counter()
    with ThreadPoolExecutor(len(users)) as pool:
        outcomes = list(pool.map(timed, users))
    return outcomes, time.perf_counter() - started


class Meter:
    """CPU seconds and resident memory of the hub's processes (and of this one, the clients)."""

    def __init__(self, hub: ClassHub) -> None:
        assert hub.process is not None, "the hub is not running"
        root = psutil.Process(hub.process.pid)
        self.processes = {"hub": root, "clients (this process)": psutil.Process()}
        for child in root.children(recursive=True):
            line = " ".join(child.cmdline())
            for name, mark in (("broker", "iyo_magic.hub.broker"), ("stand-in", "iyo_magic.server.cli"),
                               ("proxy", "configurable-http-proxy")):  # fmt: skip
                if mark in line:
                    self.processes[name] = child
        self.cpu = dict.fromkeys(self.processes, 0.0)
        self.rss = dict.fromkeys(self.processes, 0)
        #: Each listening port's process, and the longest accept queue seen on it.
        self.ports = {
            c.laddr.port: name
            for name, p in self.processes.items()
            for c in p.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN
        }
        self.queue = dict.fromkeys(self.ports.values(), 0)

    def cpu_now(self) -> dict[str, float]:
        return {name: sum(p.cpu_times()[:2]) for name, p in self.processes.items()}

    def measure(self, action):
        """Run ``action()``, adding its CPU seconds and sampling memory meanwhile."""
        before, running = self.cpu_now(), threading.Event()
        running.set()

        def sample() -> None:
            while running.is_set():
                for name, process in self.processes.items():
                    self.rss[name] = max(self.rss[name], process.memory_info().rss)
                for port, waiting in accept_queues().items():
                    if port in self.ports:
                        name = self.ports[port]
                        self.queue[name] = max(self.queue[name], waiting)
                time.sleep(SAMPLE_EVERY)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            return action()
        finally:
            running.clear()
            sampler.join()
            for name, seconds in self.cpu_now().items():
                self.cpu[name] += seconds - before[name]

    def peaks(self) -> dict[str, int]:
        found = {}
        for name, process in self.processes.items():
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = re.search(r"VmHWM:\s+(\d+) kB", status)
            found[name] = int(peak.group(1)) * 1024 if peak else 0
        return found


class Class:
    """A running hub with its users, their API tokens and (broker way) their hub logins."""

    def __init__(self, tmp: Path, hub_login: bool, users: int) -> None:
        names = [f"s{n:03d}" for n in range(users)]
        self.passwords = {name: f"{name}-class-password" for name in names}
        self.hub = ClassHub(tmp, hub_login=hub_login, users=self.passwords)
        # the users are made through the hub's REST API below, not by its configuration
        extra = "c.Authenticator.allowed_users = set()\nc.Authenticator.allow_existing_users = True\n"
        (tmp / "jupyterhub_config.py").write_text(self.hub.config + extra)
        self.names, self.hub_login = names, hub_login
        self.tokens: dict[str, str] = {}
        self.browsers: dict[str, requests.Session] = {}
        self.setup: dict[str, float] = {}
        #: Where a broker login's time goes: seconds of each step, every login of a round.
        self.steps: dict[str, list[float]] = {}
        self.kernel_requests, self.lock = 0, threading.Lock()

    def took(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.steps.setdefault(step, []).append(now - since)
        return now

    def start(self) -> Class:
        started = time.perf_counter()
        self.hub.start()
        self.setup["hub start"] = time.perf_counter() - started
        started = time.perf_counter()
        made = self.hub.api("POST", "/users", json={"usernames": self.names})
        if made.status_code != 201:
            raise RuntimeError(f"the hub made no users: {made.status_code} {made.text[:200]}")
        self.setup["users made (one request)"] = time.perf_counter() - started

        def token(name: str) -> tuple[str, str]:
            answer = self.hub.api("POST", f"/users/{name}/tokens", json={"note": "benchmark kernel"})
            answer.raise_for_status()
            return name, answer.json()["token"]

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            self.tokens = dict(pool.map(token, self.names))
        self.setup["API tokens made (8 at a time)"] = time.perf_counter() - started
        self.broker = f"http://127.0.0.1:{self.hub.broker_port}/services/iyo-broker/"
        self.standin = f"http://127.0.0.1:{self.hub.iyo_port}/services/iyo"  # direct: no proxy
        return self

    def stop(self) -> None:
        self.hub.stop()

    # -- the hub's own login (broker way): a student is in the hub before logging in -----------

    def hub_login_dummy(self, name: str) -> None:
        browser = new_browser()
        page = browser.get(f"{self.hub.url}/hub/login", timeout=PATIENCE)
        form = {"username": name, "password": self.hub.hub_password, "_xsrf": browser.cookies.get("_xsrf", "")}
        answer = browser.post(f"{self.hub.url}/hub/login", data=form, allow_redirects=False, timeout=PATIENCE)
        if answer.status_code != 302 or page.status_code != 200:
            raise Failed(f"hub login answered {answer.status_code}")
        self.browsers[name] = browser

    # -- one login each way ------------------------------------------------------------------------

    def direct(self, name: str, base_url: str = "") -> None:
        """The Authorization Code flow straight at the stand-in, with the secret."""
        base_url, state = base_url or self.standin, protocol.new_state()
        user = DemoUser(name, self.passwords[name], follow=False)
        user.visit(protocol.authorize_url(base_url, ORG, self.hub.callback, SCOPES, state))
        code = _query(user.landed_on).get("code")
        if not code:
            raise Failed(f"the stand-in sent no code ({_query(user.landed_on).get('error', 'no error')})")
        protocol.exchange_code(Transport(timeout=PATIENCE), base_url, ORG, SECRET, code, self.hub.callback, state)

    def direct_via_proxy(self, name: str) -> None:
        """The same, through the hub's proxy, as the hub ways' browsers reach the stand-in."""
        self.direct(name, self.hub.iyo)

    def by_broker(self, name: str) -> None:
        """The kernel is the magic's BrokerStep; its link is opened by the user's browser at once."""
        started = time.perf_counter()
        browser: dict = {"failures": [], "thread": None, "back": None}

        def show_link(link: str):
            shown = self.took("kernel: POST logins", started)
            browser["thread"] = threading.Thread(target=self._browse_broker, args=(name, link, shown, browser))
            browser["thread"].start()
            return lambda _text: None

        step = BrokerStep(self.broker, self.tokens[name], show_link=show_link, notice=lambda _: None, wait=PATIENCE)
        try:
            step(CountingTransport(self), LoginRequest(ORG, base_url=self.hub.iyo, flow="code", scopes=SCOPES))
        except Exception as error:
            raise Failed(browser["failures"][0] if browser["failures"] else str(error)) from None
        finished = time.perf_counter()
        browser["thread"].join()
        if browser["back"] is not None:  # negative: the kernel had it before the page came back
            self.steps.setdefault("kernel: token in hand after the callback's page", []).append(
                finished - browser["back"]
            )

    def _browse_broker(self, name: str, link: str, since: float, browser: dict) -> None:
        session, doing = self.browsers[name], "start link"
        try:
            at_iyo = follow(session, link, self.hub.iyo + "/", self)
            since, doing = self.took("browser: start link to the stand-in (all hops)", since), "stand-in"
            user = DemoUser(name, self.passwords[name], follow=False)
            user.visit(at_iyo)
            since, doing = self.took("browser: the stand-in's pages (via the proxy)", since), "callback"
            answer = session.get(user.landed_on, allow_redirects=False, timeout=PATIENCE)
            browser["back"] = self.took("browser: the broker's callback (code exchange)", since)
            if answer.status_code != 200:
                raise Failed(f"the broker's callback answered {answer.status_code}")
        except Exception as error:
            browser["failures"].append(quiet(f"browser, {doing}: {type(error).__name__}: {error}"))

    def by_hub(self, name: str) -> None:
        """The hub's own ItsYou.online login, up to the redirect after its callback (no spawn)."""
        browser = new_browser()
        start = browser.get(f"{self.hub.url}/hub/oauth_login", allow_redirects=False, timeout=PATIENCE)
        if start.status_code not in REDIRECTS:
            raise Failed(f"/hub/oauth_login answered {start.status_code}")
        user = DemoUser(name, self.passwords[name], follow=False)
        user.visit(urljoin(start.url, start.headers["Location"]))
        back = browser.get(user.landed_on, allow_redirects=False, timeout=PATIENCE)
        if back.status_code not in REDIRECTS or "jupyterhub-hub-login" not in browser.cookies:
            raise Failed(f"/hub/oauth_callback answered {back.status_code} without a hub login")


class CountingTransport(Transport):
    """The kernel's transport, counting its requests to the broker (its start and its polls)."""

    def __init__(self, counts: Class) -> None:
        super().__init__(timeout=PATIENCE)
        self.counts = counts

    def request(self, *args, **kwargs):
        with self.counts.lock:
            self.counts.kernel_requests += 1
        return super().request(*args, **kwargs)


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query.lstrip("&?"), keep_blank_values=True))


def follow(browser: requests.Session, url: str, until: str, steps: Class | None = None) -> str:
    """Follow redirects from ``url`` with the browser's cookies until one leads under ``until``."""
    for hop in range(10):
        started = time.perf_counter()
        answer = browser.get(url, allow_redirects=False, timeout=PATIENCE)
        if steps is not None:
            steps.took(f"  hop {hop + 1}: {re.sub(r'/start/.*', '/start/<id>', urlsplit(url).path)}", started)
        if answer.status_code not in REDIRECTS:
            raise Failed(f"{urlsplit(url).path} answered {answer.status_code}")
        url = urljoin(url, answer.headers["Location"])
        if url.startswith(until):
            return url
    raise Failed("too many redirects")


def accept_queues() -> dict[int, int]:
    """Connections waiting to be accepted, by listening port (``ss``: the kernel filters them;
    /proc/net/tcp lists every connection, thousands of them in TIME_WAIT after a round)."""
    found = {}
    listing = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        fields = line.split()  # State Recv-Q Send-Q Local:Port Peer:Port; Recv-Q is the queue
        if len(fields) >= 4 and fields[3].rsplit(":", 1)[-1].isdigit():
            found[int(fields[3].rsplit(":", 1)[1])] = int(fields[1])
    return found


def listen_overflows() -> int:
    """Connections the kernel dropped because a listening socket's queue was full (machine-wide)."""
    lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines() if line.startswith("TcpExt:")]
    return int(dict(zip(lines[0], lines[1])).get("ListenOverflows", 0))


def spread(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], ordered[-1]


def summary(outcomes: list[tuple[float, str]]) -> dict:
    times = sorted(seconds for seconds, failure in outcomes if not failure)
    failures: dict[str, int] = {}
    for _seconds, failure in outcomes:
        if failure:
            failures[failure] = failures.get(failure, 0) + 1

    def rank(share: float) -> float:
        return times[min(len(times) - 1, round(share * (len(times) - 1)))] if times else float("nan")

    return {
        "logins": len(outcomes),
        "completed": len(times),
        "failures": failures,
        "p50_s": round(rank(0.5), 3),
        "p95_s": round(rank(0.95), 3),
        "max_s": round(times[-1], 3) if times else float("nan"),
        "mean_s": round(statistics.fmean(times), 3) if times else float("nan"),
    }


def run_way(hub_login: bool, users: int, rounds: int, where: Path | None = None) -> dict:
    way = "hub login" if hub_login else "broker"
    with tempfile.TemporaryDirectory(prefix="iyo-hub-bench-", dir=where) as tmp:
        cls = Class(Path(tmp), hub_login, users).start()
        try:
            meter, direct_meter = Meter(cls.hub), Meter(cls.hub)
            result: dict = {"setup_s": {k: round(v, 2) for k, v in cls.setup.items()}}
            if not hub_login:
                outcomes, wall = at_once(cls.hub_login_dummy, cls.names)
                result["hub's own login (dummy, at once)"] = {**summary(outcomes), "wall_s": round(wall, 2)}
            outcomes, wall = at_once(cls.direct, cls.names)  # each user's consent, once
            result["first direct login (with consent, untimed warm-up)"] = {
                **summary(outcomes),
                "wall_s": round(wall, 2),
            }
            direct: list[tuple[float, str]] = []
            ours: list[tuple[float, str]] = []
            walls: dict[str, list[float]] = {"direct": [], way: []}
            for _ in range(rounds):
                dropped = listen_overflows()
                outcomes, wall = direct_meter.measure(lambda: at_once(cls.direct, cls.names))
                result.setdefault("listen queue overflows, per direct round", []).append(listen_overflows() - dropped)
                direct += outcomes
                walls["direct"].append(round(wall, 2))
                result.setdefault("direct, per round", []).append({**summary(outcomes), "wall_s": round(wall, 2)})
                outcomes, wall = at_once(cls.direct_via_proxy, cls.names)
                result.setdefault("direct via the proxy, per round", []).append(
                    {**summary(outcomes), "wall_s": round(wall, 2)}
                )
                work = cls.by_hub if hub_login else cls.by_broker
                if not hub_login:
                    missing = [n for n in cls.names if n not in cls.browsers]
                    if missing:
                        raise RuntimeError(f"{len(missing)} users could not log in to the hub")
                cls.steps, cls.kernel_requests, dropped = {}, 0, listen_overflows()
                cpu = dict(meter.cpu)
                outcomes, wall = meter.measure(lambda work=work: at_once(work, cls.names))
                result.setdefault("cpu_s per round", []).append({k: round(v - cpu[k], 2) for k, v in meter.cpu.items()})
                result.setdefault("listen queue overflows, per round", []).append(listen_overflows() - dropped)
                if not hub_login:
                    result.setdefault("kernels' requests to the broker, per round", []).append(cls.kernel_requests)
                ours += outcomes
                result.setdefault(f"{way}, per round", []).append({**summary(outcomes), "wall_s": round(wall, 2)})
                if cls.steps:
                    result.setdefault("broker steps (p50 / p95 / max s, per round)", []).append(
                        {step: " / ".join(f"{x:.3f}" for x in spread(times)) for step, times in cls.steps.items()}
                    )
                walls[way].append(round(wall, 2))
            result["direct"] = {**summary(direct), "wall_s": walls["direct"]}
            result[way] = {**summary(ours), "wall_s": walls[way]}
            result["cpu_s_during_way_rounds"] = {k: round(v, 2) for k, v in meter.cpu.items()}
            result["cpu_s_during_direct_rounds"] = {k: round(v, 2) for k, v in direct_meter.cpu.items()}
            result["longest accept queue in direct rounds"] = direct_meter.queue
            result["longest accept queue (backlog 128 unless told)"] = meter.queue
            result["rss_mb_sampled_max"] = {k: round(v / 2**20, 1) for k, v in meter.rss.items()}
            result["rss_mb_peak_vmhwm"] = {k: round(v / 2**20, 1) for k, v in meter.peaks().items()}
            for baseline in ("direct", "direct via the proxy"):
                result[f"p95 / {baseline} p95, per round"] = [
                    round(ours["p95_s"] / theirs["p95_s"], 2)
                    for ours, theirs in zip(result[f"{way}, per round"], result[f"{baseline}, per round"])
                ]
        finally:
            cls.stop()
    return result


def table(users: int, results: dict[str, dict]) -> str:
    rows = []
    for way, result in results.items():
        pairs = zip(
            result[f"{way}, per round"],
            result["direct, per round"],
            result["direct via the proxy, per round"],
            result["p95 / direct p95, per round"],
            result["p95 / direct via the proxy p95, per round"],
        )
        for number, (ours, direct, proxied, ratio, proxied_ratio) in enumerate(pairs, 1):
            said = f"{way}, round {number}"
            if way == "broker":
                said += " (first)" if number == 1 else " (again)"
            rows += [
                (f"{said}: logins completed", f"{ours['completed']} of {ours['logins']}", f"{users} of {users}"),
                (f"{said}: p50 / p95 / max s", f"{ours['p50_s']} / {ours['p95_s']} / {ours['max_s']}", ""),
                (f"{said}: direct p50 / p95 / max s", f"{direct['p50_s']} / {direct['p95_s']} / {direct['max_s']}", ""),
                (
                    f"{said}: direct via the proxy p50 / p95 / max s",
                    f"{proxied['p50_s']} / {proxied['p95_s']} / {proxied['max_s']}",
                    "",
                ),  # fmt: skip
                (f"{said}: p95 / direct p95 (via the proxy)", f"{ratio:.2f} ({proxied_ratio:.2f})", "<= 2"),
                (
                    f"{said}: wall s (direct, via the proxy)",
                    f"{ours['wall_s']} ({direct['wall_s']}, {proxied['wall_s']})",
                    "",
                ),  # fmt: skip
            ]
            for failure, count in {**ours["failures"], **direct["failures"], **proxied["failures"]}.items():
                rows.append((f"{said}: failure", f"{count}x {failure}", "none"))
        cpu, rss = result["cpu_s per round"], result["rss_mb_peak_vmhwm"]
        for name in ("hub", "broker", "stand-in", "proxy", "clients (this process)"):
            if name in rss:
                seconds = ", ".join(str(r[name]) for r in cpu)
                rows.append((f"{way}: {name} CPU s per round; peak RSS MB", f"{seconds}; {rss[name]}", "(measured)"))
        overflows = result["listen queue overflows, per round"], result["listen queue overflows, per direct round"]
        rows.append((f"{way}: listen queue overflows per round (direct)", f"{overflows[0]} ({overflows[1]})", "0"))
    width = max(len(r[0]) for r in rows)
    lines = [f"| {'figure'.ljust(width)} | measured | goal |", f"| {'-' * width} | --- | --- |"]
    lines += [f"| {name.ljust(width)} | {value} | {goal} |" for name, value, goal in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="hub users logging in at once (default 200)")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds of each kind (default 2)")
    parser.add_argument("--way", choices=("broker", "hub", "both"), default="both")
    parser.add_argument("--tmp", type=Path, help="where the hubs' files go (their sqlite database); default: $TMPDIR")
    parser.add_argument("--save", type=Path, help="also write the figures to this JSON file")
    options = parser.parse_args()
    if options.users < 1 or options.rounds < 1:
        parser.error("--users and --rounds must be at least 1")
    results, load = {}, [os.getloadavg()[0]]
    for hub_login in (False, True):
        if options.way in ("both", "hub" if hub_login else "broker"):
            results["hub login" if hub_login else "broker"] = run_way(
                hub_login, options.users, options.rounds, options.tmp
            )
    when = datetime.datetime.now().isoformat(timespec="minutes")
    load.append(os.getloadavg()[0])
    print(
        f"A class at scale, {when}, {options.users} users, {options.rounds} rounds, {os.cpu_count()} cores, "
        f"load average {load[0]:.1f} before and {load[1]:.1f} after (other work on the machine)\n"
    )
    print(table(options.users, results))
    for way, result in results.items():
        for number, steps in enumerate(result.get("broker steps (p50 / p95 / max s, per round)", []), 1):
            print(f"\n{way}, round {number}: where a login's time goes (p50 / p95 / max s)")
            print("\n".join(f"  {step}: {spread}" for step, spread in steps.items()))
    if options.save:
        figures = {"date": when, "users": options.users, "rounds": options.rounds, "cores": os.cpu_count()}
        figures["load average before, after"] = [round(x, 2) for x in load]
        options.save.write_text(json.dumps({**figures, "ways": results}, indent=2, ensure_ascii=False) + "\n")
    complete = all(r[w]["completed"] == r[w]["logins"] for w, r in ((w, r) for w, r in results.items()))
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
