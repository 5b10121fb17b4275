"""HTTP throughput of the slots API and the booking page, beside the framework's floor.

gunicorn serves ``wsgi:app`` as in production (``CLINIC_ENV=production``, sync workers, two
per core: ``gunicorn -w 4`` on two cores, as the README deploys it) on a free loopback port.
Its clinic is built like a real one: five practitioners in five zones working weekdays 9 to 5,
two consults a day booked on each for 60 days ahead, and 1,000 past consults. Rate limits are
off (``RATELIMIT_ENABLED=false``): every client here is 127.0.0.1, and the per-address limits
would answer nearly every request with 429.

The floor is ``/livez``, a constant answered through the same app, middleware and security
headers as every page; ``/healthz`` adds one ``SELECT 1``, the least that any answer read from
the database costs. ``/api/v1/slots`` asks for 14 days from any practitioner (its defaults;
about 50 KB of JSON here); ``/book`` is the booking page's first day with free times (about 40 KB
of HTML) as a first visit, with no session cookie. Both are served from the process's recent
answers (``clinic/web/kept_answers.py``, kept 2 s) as a burst of first visits would be; the
same two sent with the session cookie a browser got from its first page, which is never served
a recent answer, show the cost of reading the schedule versions and serving the page kept
under them (``clinic/web/versioned_answers.py``); and the same two cache-cold, each request
asking another day, zone or practitioner, show the cost of cutting the free times from the
kept weeks (or working them out) and writing the answer.

wrk (C, event-driven, one thread: a few percent of a core beside the server's workers) keeps
1, then 20, connections busy on each address in turn, floor first, for a few seconds, in
rounds (two, of 3 s each; one of 1 s with --quick), so that the machine's drift hits every
address alike. Requests per second count every request of every round; p50 and p99 latency
are the median over the rounds of each round's percentile. Sync workers close the connection
after each answer, so every request includes a loopback TCP connect, as behind a proxy. Each
ratio divides an address's requests per second by the floor's at the same concurrency. Any
answer other than 200, and any socket error or timeout, is counted: there must be none.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench import data
from bench.report import Row, millis
from tests.support.servers import free_port

PROJECT = Path(__file__).resolve().parents[1]
WORKERS = 2 * (os.cpu_count() or 1)
CLIENTS = (1, 20)
PRACTITIONERS = 5
PAST_CONSULTS = 1_000
FLOOR = "/livez"
# A visitor with a session cookie is never served a recent answer (clinic/web/kept_answers.py):
# their requests show the cost of working an answer out, from the versioned cache of free times.
# The cookie is the one a browser is given with its first page (``_session_cookie``).
RETURNING = ("Cookie: session={session}",)
# (key, path, what it is, the least share of the floor's requests per second it must reach,
# request headers)
ADDRESSES = (
    (FLOOR, FLOOR, f"{FLOOR}, the floor ({WORKERS} sync workers)", None, ()),
    ("/healthz", "/healthz", "/healthz, the floor and one SELECT 1 (for reference)", None, ()),
    ("slots", "/api/v1/slots", "/api/v1/slots, any practitioner, 14 days", 0.50, ()),
    ("book", "/book", "/book, the booking page", 0.40, ()),
    (
        "slots, returning",
        "/api/v1/slots",
        "/api/v1/slots with a session cookie (no recent answer)",
        0.40,
        RETURNING,
    ),
    ("book, returning", "/book", "/book with a session cookie (no recent answer)", 0.30, RETURNING),
    (
        "slots, cold",
        "/api/v1/slots",
        "/api/v1/slots, cache-cold (each request another day, zone or practitioner)",
        0.20,
        (),
    ),
    (
        "book, cold",
        "/book",
        "/book, cache-cold (each request another day, zone or practitioner)",
        0.15,
        (),
    ),
)
# Cache-cold addresses: wrk asks each request with other parameters (``COLD_SCRIPT``), so that
# neither the recent answers nor the cache of free times can answer it.
COLD = {"slots, cold": "slots", "book, cold": "book"}
# Each wrk run starts this far along the sequence of asks, so that no run repeats one asked
# in the 30 s before it (the cache of free times keeps an answer that long).
COLD_STRIDE = 5_000
BOOT_TIMEOUT = 30  # seconds

# wrk counts only answers >= 400 as errors: this counts every answer other than 200, and
# prints the figures as one JSON line.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local not_ok_total = 0
  for _, thread in ipairs(threads) do not_ok_total = not_ok_total + thread:get("not_ok") end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "not_ok": %d, ' ..
    '"socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    not_ok_total, e.connect + e.read + e.write + e.timeout))
end
"""


# The same counting, each request with the next of 88 days × 12 zones × 6 practitioners
# (any, or one of five) as its parameters: the slots API's or the booking page's names for them.
COLD_SCRIPT = (
    WRK_SCRIPT
    + """
local zones = {"Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney",
  "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "America/Sao_Paulo",
  "Africa/Lagos", "Pacific/Auckland", "America/Chicago", "Europe/Madrid"}
local who = {"any", "1", "2", "3", "4", "5"}
local kind, asked = "slots", 0
function init(args)
  not_ok = 0
  kind, asked = args[1], tonumber(args[2])
end
function request()
  asked = asked + 1
  local day = os.date("!%Y-%m-%d", os.time() + 86400 * (asked % 88))
  local zone = zones[math.floor(asked / 88) % #zones + 1]:gsub("/", "%%2F")
  local person = who[math.floor(asked / (88 * #zones)) % #who + 1]
  local path
  if kind == "slots" then
    path = "/api/v1/slots?timezone=" .. zone .. "&from=" .. day .. "&practitioner=" .. person
  else
    path = "/book?tz=" .. zone .. "&day=" .. day .. "&practitioner=" .. person
  end
  return wrk.format("GET", path)
end
"""
)


@dataclass(frozen=True)
class Load:
    """What wrk measured on one address at one concurrency."""

    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    not_ok: int  # answers other than 200
    socket_errors: int  # connect, read, write errors and timeouts

    @classmethod
    def combined(cls, rounds: list[Load]) -> Load:
        return cls(
            requests=sum(r.requests for r in rounds),
            seconds=sum(r.seconds for r in rounds),
            p50=statistics.median(r.p50 for r in rounds),
            p99=statistics.median(r.p99 for r in rounds),
            not_ok=sum(r.not_ok for r in rounds),
            socket_errors=sum(r.socket_errors for r in rounds),
        )

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        return (
            f"{self.rate:,.0f}/s, p50 {millis(self.p50)}, p99 {millis(self.p99)}, "
            f"{self.not_ok + self.socket_errors} not 200"
        )


def run(context) -> list[Row]:
    wrk = shutil.which("wrk")
    if wrk is None:
        missing = (
            "not run: wrk is not installed (`bash bench/install-tools`, or apt-get install wrk)"
        )
        print(f"http: {missing}", file=sys.stderr)
        return [Row("HTTP", "all addresses", missing)]
    rounds, seconds = (1, 1) if context.quick else (2, 3)
    script = context.workdir / "count-not-200.lua"
    script.write_text(WRK_SCRIPT)
    cold_script = context.workdir / "cold.lua"
    cold_script.write_text(COLD_SCRIPT)
    cold_runs = 0
    rows = []
    for kind in ("sqlite", "postgresql"):
        url = _clinic(context, kind)
        with _gunicorn(url, context.workdir / f"gunicorn-http-{kind}.log") as base:
            _check(base)
            _warm_up(base)
            session = _session_cookie(base)
            for clients in CLIENTS:
                runs: dict[str, list[Load]] = {key: [] for key, *_ in ADDRESSES}
                for _ in range(rounds):
                    for key, path, _, _, headers in ADDRESSES:
                        if key in COLD:
                            cold_runs += 1
                            sequence = (COLD[key], str(cold_runs * COLD_STRIDE))
                            load = _wrk(
                                wrk, cold_script, base + path, clients, seconds, (), sequence
                            )
                        else:
                            sent = tuple(h.format(session=session) for h in headers)
                            load = _wrk(wrk, script, base + path, clients, seconds, sent)
                        runs[key].append(load)
                loads = {key: Load.combined(round_runs) for key, round_runs in runs.items()}
                rows += _rows(kind, clients, loads)
    return rows


def _rows(kind: str, clients: int, loads: dict[str, Load]) -> list[Row]:
    rows = []
    floor = loads[FLOOR]
    for key, _, label, share, _ in ADDRESSES:
        load = loads[key]
        clean = load.not_ok == load.socket_errors == 0
        measure = f"{label}, {kind}, {clients} client{'s' if clients > 1 else ''}"
        if key == FLOOR:
            rows.append(Row("HTTP", measure, load.describe(), "all 200", clean))
            continue
        ratio = load.rate / floor.rate
        if share is None:
            rows.append(
                Row("HTTP", measure, f"{load.describe()}; {ratio:.0%} of floor", "all 200", clean)
            )
            continue
        rows.append(
            Row(
                "HTTP",
                measure,
                f"{load.describe()}; {ratio:.0%} of floor",
                f"≥ {share:.0%} of floor, all 200",
                clean and ratio >= share,
            )
        )
    return rows


def _clinic(context, kind: str) -> str:
    url = context.database(kind, "http")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ids = data.seed_clinic(
        url, PRACTITIONERS, timezone="Europe/London", horizon_days=90, min_notice_minutes=120
    )
    data.add_past_consults(url, ids, PAST_CONSULTS, now)
    data.add_booked_consults(url, ids, days=60, per_day=2, now=now)
    return url


@contextmanager
def _gunicorn(database_url: str, log_path: Path):
    """``gunicorn -w WORKERS wsgi:app`` in production mode; yields its base URL once it
    answers /healthz, and stops it on the way out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CLINIC_ENV": "production",
        "SECRET_KEY": "bench-secret",
        "DATABASE_URL": database_url,
        "CLINIC_BASE_URL": base,
        "RATELIMIT_ENABLED": "false",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-k", "sync"]
    command += ["-b", f"127.0.0.1:{port}", "--no-control-socket", "--graceful-timeout", "5"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*command, "wsgi:app"], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(process, base, log_path)
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)  # no requests are left in flight: stop at once
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen, base: str, log_path: Path) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}"
            )
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer /healthz:\n{log_path.read_text()}")
        time.sleep(0.1)


def _check(base: str) -> None:
    """Each address answers what a visitor would get, not an error page or an empty week."""
    for _, path, _, _, headers in ADDRESSES:
        sent = dict(h.split(": ", 1) for h in headers)
        response = requests.get(base + path, headers=sent, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    if not requests.get(f"{base}/api/v1/slots", timeout=10).json()["slots"]:
        raise RuntimeError("the benchmark clinic has no free times in the next 14 days")
    if 'name="start"' not in requests.get(f"{base}/book", timeout=10).text:
        raise RuntimeError("the booking page offers no free time")


def _warm_up(base: str) -> None:
    """Every worker past its first, slow requests (imports, compiled templates, pools)."""
    urls = [base + path for _, path, *_ in ADDRESSES for _ in range(4 * WORKERS)]
    with ThreadPoolExecutor(2 * WORKERS) as pool:
        list(pool.map(lambda url: requests.get(url, timeout=30), urls))


def _session_cookie(base: str) -> str:
    """The session cookie of a patient who has opened the booking page once (it holds the
    page's CSRF token), as their browser sends it with every later request."""
    response = requests.get(base + "/book", timeout=30)
    response.raise_for_status()
    return response.cookies["session"]


def _wrk(wrk: str, script: Path, url: str, clients: int, seconds: int, headers=(), args=()) -> Load:
    command = [wrk, "-t", "1", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    command += ["-s", str(script), url]
    if args:
        command += ["--", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("{"))
    figures = json.loads(line)
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50=figures["p50_us"] / 1e6,
        p99=figures["p99_us"] / 1e6,
        not_ok=figures["not_ok"],
        socket_errors=figures["socket_errors"],
    )
