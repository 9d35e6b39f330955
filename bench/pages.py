"""The grid and map pages under load, against a minimal page of the same size.

1. A database of its own (`--pages-database-url`, by default `observatoire_bench_pages` on
   the local PostgreSQL, created when missing), migrated and bootstrapped as `make run` does
   (`bootstrap_demo --companies 2000`: reference data, demo companies, a grid per lens, the
   demo accounts). Every step is skipped when already done.
2. gunicorn with 2 sync workers on a free loopback port, with production settings
   (DJANGO_DEBUG=0, static files collected into a temporary folder and served by WhiteNoise)
   and the cache shared by both workers in Redis (database 14, emptied first) when Redis
   answers, else each worker's local memory.
3. The demo analyst logs in; the grid page's default view and the map page are fetched once
   (their figures are then cached, as for an analyst coming back to them) to learn their
   size; the minimal page is `/sante/?octets=<size of the grid page>`: the same bytes on the
   wire through the same middleware, and one `SELECT 1`.
4. wrk (`-t2 -c8 --latency`, installed from Debian when missing; else a small Python load
   generator, which says so) loads the three pages one after the other, `--repeat` rounds,
   after a short warm-up of each; each figure is the median of the rounds.
5. In one process, without the server (`render_costs_child`): the median time of the grid
   page served from its cached fragments, and rendered on every request from the data of the
   one cache (observatory.published.cached), which is what the fragments save.
"""

import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from bench import create_postgres_database

PAGES_DATABASE = "postgres://postgres@127.0.0.1:5432/observatoire_bench_pages"
REDIS_CACHE = "redis://127.0.0.1:6379/14"  # 0 and 1 are docker-compose's, 15 the tests'
ANALYST = ("analyste", "analyste-demo-2026")  # observatory.demo.DEMO_ACCOUNTS
WORKERS = 2
THREADS, CONNECTIONS = 2, 8
# wrk drops from its latency histogram every response slower than its timeout (2 s by
# default) and counts it as an error: 10 s keeps slow responses in the p99.
TIMEOUT_SECONDS = 10
WARMUP_SECONDS = 3
PAGES = (  # result prefix, path (the minimal page's size is added when known)
    ("minimal_page", "/sante/"),
    ("grid_page", "/observatoire/grille/"),
    ("map_page", "/observatoire/carte/"),
)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def add_arguments(parser) -> None:
    group = parser.add_argument_group("pages")
    group.add_argument("--pages-database-url", default=PAGES_DATABASE, help=f"database ({PAGES_DATABASE})")
    group.add_argument("--pages-companies", type=int, default=2000, help="demo companies when empty (2000)")
    group.add_argument("--pages-seconds", type=int, default=15, help="duration of one load measure (15)")


def run(args) -> dict[str, float]:
    database_url = args.pages_database_url
    prepare_database(database_url, companies=args.pages_companies)
    load = load_generator()
    with tempfile.TemporaryDirectory(prefix="observatoire-bench-static-") as static_root:
        env = server_environment(database_url, static_root)
        say(f"cache: {cache_description(env)}")
        manage(["collectstatic", "--noinput", "-v0"], env=env)
        with gunicorn(env) as base_url:
            cookie = f"sessionid={login(base_url, *ANALYST)}"
            urls = page_urls(base_url, cookie)
            say(f"machine: load average {os.getloadavg()[0]:.1f} over 1 min, {os.cpu_count()} CPUs")
            for url in urls.values():
                load(url, cookie, WARMUP_SECONDS)
            measures = {name: [] for name in urls}
            for attempt in range(1, args.repeat + 1):
                for name, url in urls.items():  # interleaved: a noisy spell hits all three
                    measure = load(url, cookie, args.pages_seconds)
                    say(
                        f"{name} {attempt}/{args.repeat}: {measure['rps']:.1f} req/s, p99 "
                        f"{measure['p99_ms']:.0f} ms, {measure['requests']} requests, {measure['errors']} errors"
                    )
                    measures[name].append(measure)
            say(f"machine: load average {os.getloadavg()[0]:.1f} over 1 min")
        costs = render_costs(env)
    return {**summarise(measures), **costs}


# Requests of each in-process measure (`render_costs_child`).
RENDER_REQUESTS = 200


def render_costs(env: dict) -> dict[str, float]:
    """`render_costs_child` in a child process on the pages' database and cache."""
    output = manage(["shell", "-c", "from bench.pages import render_costs_child; render_costs_child()"], env=env)
    costs = json.loads(output.strip().splitlines()[-1])
    costs["grid_page_rendered_vs_fragments"] = costs["grid_page_rendered_ms"] / costs["grid_page_fragments_ms"]
    say(
        f"grid page in one process: {costs['grid_page_fragments_ms']:.1f} ms from its fragments, "
        f"{costs['grid_page_rendered_ms']:.1f} ms rendered from the one cache (medians of {RENDER_REQUESTS})"
    )
    return costs


def render_costs_child() -> None:
    """Print, as JSON, the median time (ms) of the grid page's default view served from its
    cached fragments, then with no fragment kept (every request renders the page from the
    data of the one cache, filled by the first request). Runs inside `manage.py shell`."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from observatory.views import grid

    client = Client(SERVER_NAME=urlsplit(f"//{os.environ['DJANGO_ALLOWED_HOSTS'].split(',')[0]}").hostname)
    client.force_login(get_user_model().objects.get(username=ANALYST[0]))

    def median_ms() -> float:
        client.get("/observatoire/grille/")  # fills the caches
        times = []
        for _ in range(RENDER_REQUESTS):
            start = time.perf_counter()
            response = client.get("/observatoire/grille/")
            times.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"grid page: status {response.status_code}")
        return statistics.median(times) * 1000

    fragments = median_ms()
    grid.cached_fragments = lambda keys: {}
    grid.FRAGMENTS = {name: (fragment, 0) for name, (fragment, _timeout) in grid.FRAGMENTS.items()}
    rendered = median_ms()
    print(json.dumps({"grid_page_fragments_ms": fragments, "grid_page_rendered_ms": rendered}))


def page_urls(base_url: str, cookie: str) -> dict[str, str]:
    """The URL of each page, the minimal one padded to the grid page's size. Fetching the
    pages also fills their figure caches."""
    sizes = {name: page_size(base_url + path, cookie) for name, path in PAGES if name != "minimal_page"}
    urls = {name: base_url + path for name, path in PAGES}
    urls["minimal_page"] += "?" + urlencode({"octets": sizes["grid_page"]})
    sizes["minimal_page"] = page_size(urls["minimal_page"], cookie)
    for name, url in urls.items():
        say(f"page {url.removeprefix(base_url)}: {sizes[name]} bytes of HTML")
    return urls


def say(line: str) -> None:
    print(line, flush=True)


def summarise(measures: dict[str, list[dict]]) -> dict[str, float]:
    """Medians over the rounds; errors are summed (the goal is none at all)."""
    results: dict[str, float] = {}
    minimal_rps = statistics.median(m["rps"] for m in measures["minimal_page"])
    for name, runs in measures.items():
        results[f"{name}_rps"] = statistics.median(m["rps"] for m in runs)
        if name != "minimal_page":
            results[f"{name}_vs_minimal"] = results[f"{name}_rps"] / minimal_rps if minimal_rps else float("nan")
        results[f"{name}_p99_ms"] = statistics.median(m["p99_ms"] for m in runs)
        if name != "minimal_page":
            results[f"{name}_errors"] = sum(m["errors"] for m in runs)
    return results


# --- The database and the server ------------------------------------------------------------


def prepare_database(database_url: str, *, companies: int) -> None:
    """Create the database when missing, migrate it and bootstrap the demo (each step of
    `bootstrap_demo` is skipped when already done), in child processes: the bench's own
    Django connection stays on the grid benchmark's database."""
    create_postgres_database(database_url)
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": ""}
    parts = urlsplit(database_url)
    say(f"database: {parts.path.lstrip('/')} on {parts.hostname}:{parts.port or 5432}")
    manage(["migrate", "--noinput", "-v0"], env=env)
    clock = time.perf_counter()
    output = manage(["bootstrap_demo", "--companies", str(companies)], env=env)
    created = [line for line in output.splitlines() if line.startswith(("Création", "Grille", "Chargement"))]
    say(f"bootstrap_demo: {'; '.join(created) or 'already done'} ({time.perf_counter() - clock:.1f} s)")


def manage(arguments: list[str], *, env: dict) -> str:
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *arguments]
    done = subprocess.run(command, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{(done.stdout + done.stderr)[-4000:]}")
    return done.stdout


def server_environment(database_url: str, static_root: str) -> dict:
    """Production settings on loopback: no debug, plain http, a throwaway key."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(24).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": static_root,
        "DJANGO_LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
    }
    if redis_answers(REDIS_CACHE):
        env["REDIS_URL"] = REDIS_CACHE
    return env


def redis_answers(url: str) -> bool:
    """PING the bench's Redis database and empty it: a figure cached by an earlier database
    under the same run id must not be served."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.flushdb()
        return True
    except Exception:
        return False


def cache_description(env: dict) -> str:
    if env["REDIS_URL"]:
        return f"Redis {env['REDIS_URL']} (shared by the {WORKERS} workers, emptied first)"
    return f"local memory of each of the {WORKERS} workers (Redis does not answer at {REDIS_CACHE})"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict):
    """gunicorn serving the project on a free loopback port; yields its base URL and stops it
    (SIGTERM, then SIGKILL after the graceful timeout) however the block ends."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "observatory.wsgi",
        "-w",
        str(WORKERS),
        "-b",
        f"127.0.0.1:{port}",
    ]
    say(f"server: {' '.join(command[1:])} (gunicorn {gunicorn_version()})")
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(base_url, process, log)
            yield base_url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            say(f"server: stopped (exit status {process.returncode})")


def gunicorn_version() -> str:
    from importlib.metadata import version

    return version("gunicorn")


def wait_until_up(base_url: str, process, log, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited with status {process.returncode}:\n{log.read()[-4000:]}")
        try:
            if get(base_url + "/sante/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


# --- HTTP -----------------------------------------------------------------------------------


def get(url: str, cookie: str = "") -> tuple[int, bytes, list[str]]:
    """One GET without following redirects: status, body and Set-Cookie headers."""
    return request("GET", url, headers={"Cookie": cookie} if cookie else {})


def request(method: str, url: str, *, headers: dict, body: str | None = None) -> tuple[int, bytes, list[str]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        return response.status, response.read(), response.headers.get_all("Set-Cookie") or []
    finally:
        connection.close()


def cookies(set_cookie: list[str]) -> dict[str, str]:
    jar = SimpleCookie()
    for header in set_cookie:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def login(base_url: str, username: str, password: str) -> str:
    """Log in through the login form and return the session id. By hand rather than with a
    cookie jar: without debug the cookies are `Secure`, which a jar keeps off plain http."""
    status, body, set_cookie = get(base_url + "/comptes/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    csrf = cookies(set_cookie).get("csrftoken")
    if status != 200 or not token or not csrf:
        raise RuntimeError(f"login page: status {status}, no CSRF token")
    form = {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()}
    status, _, set_cookie = request(
        "POST",
        base_url + "/comptes/login/",
        headers={"Cookie": f"csrftoken={csrf}", "Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(form),
    )
    session = cookies(set_cookie).get("sessionid")
    if status != 302 or not session:
        raise RuntimeError(f"login of {username} refused (status {status}): run bootstrap_demo on the database")
    return session


def page_size(url: str, cookie: str) -> int:
    """The body's size in bytes; the first request also fills the page's figure cache."""
    status, body, _ = get(url, cookie)
    if status != 200:
        raise RuntimeError(f"{url}: status {status}")
    return len(body)


# --- Load generators ------------------------------------------------------------------------


def load_generator():
    """wrk when installed (or installable from Debian), else the Python generator."""
    wrk = ensure_wrk()
    if wrk:
        version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split(" Copyright")[0]
        say(f"load: {version.strip() or wrk} -t{THREADS} -c{CONNECTIONS} --timeout {TIMEOUT_SECONDS}s --latency")
        return lambda url, cookie, seconds: run_wrk(wrk, url, cookie, seconds)
    say(
        f"load: wrk unavailable, Python load generator instead ({CONNECTIONS} threads, one connection per "
        "request): it shares the GIL and the 2 cores, so its figures are lower than wrk's"
    )
    return python_load


def ensure_wrk() -> str | None:
    for candidate in ("/usr/bin/wrk", "/usr/local/bin/wrk"):
        if os.access(candidate, os.X_OK):
            return candidate
    command = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    if os.geteuid() != 0:
        say("load: wrk is not installed and installing it needs root (apt-get install wrk)")
        return None
    say(f"load: wrk missing, running: {' '.join(command)}")
    done = subprocess.run(
        command, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True, text=True
    )
    if done.returncode != 0:
        say(f"load: apt-get failed (status {done.returncode}): {done.stderr.strip()[-300:]}")
        return None
    return "/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK) else None


def run_wrk(wrk: str, url: str, cookie: str, seconds: int) -> dict:
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        f"--timeout={TIMEOUT_SECONDS}s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed (status {done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> dict:
    """requests/s, p99 latency (ms), requests and errors (socket errors of any kind plus
    responses other than 2xx and 3xx) from the output of `wrk --latency`."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p99 = re.search(r"^\s+99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\b", output, re.M)
    requests = re.search(r"^\s*(\d+) requests in ", output, re.M)
    if not (rps and requests):
        raise ValueError(f"not the output of wrk:\n{output}")
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return {
        "rps": float(rps.group(1)),
        "p99_ms": float(p99.group(1)) * UNITS[p99.group(2)] if p99 else float("nan"),
        "requests": int(requests.group(1)),
        "errors": errors,
    }


def python_load(url: str, cookie: str, seconds: float) -> dict:
    """wrk's measure with threads: CONNECTIONS clients each sending GETs for `seconds`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client():
        while (start := time.perf_counter()) < deadline:
            try:
                status, _, _ = get(url, cookie)
                ok = status < 400
            except OSError:
                ok = False
            with lock:
                if ok:
                    latencies.append((time.perf_counter() - start) * 1e3)
                else:
                    errors[0] += 1

    clock = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - clock
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else float("nan")
    return {
        "rps": len(latencies) / elapsed,
        "p99_ms": p99,
        "requests": len(latencies) + errors[0],
        "errors": errors[0],
    }
