"""Concurrent complete diagnostic submissions against gunicorn on PostgreSQL.

1. A database of its own (`--submit-database-url`, by default `observatoire_bench_submit`
   on the local PostgreSQL, created when missing), migrated, with the built-in reference and
   a current campaign; the companies of an earlier run are removed, then `--submit-clients`
   companies are created, each with one active owner (with the ORM, in a child process: the
   bench's own Django connection stays on the grid benchmark's database).
2. gunicorn with 2 sync workers on a free loopback port, production settings (the helpers of
   bench/pages.py).
3. Every owner logs in, then all start together (a barrier) and walk the questionnaire over
   HTTP as a person does: start, identity, maturity, two jobs, review — and submit twice at
   the same time (two threads posting the same form: a double click under load). A client's
   time runs from its first step to the later of its two submit responses.
4. The ORM then counts what was stored: a company without a submitted diagnostic and its two
   job positions is lost; a second submitted diagnostic or a position beyond two is a
   duplicate. Both goals are 0.
"""

import http.client
import json
import math
import os
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

from bench import create_postgres_database
from bench.pages import cookies, gunicorn, login, manage, say, server_environment

SUBMIT_DATABASE = "postgres://postgres@127.0.0.1:5432/observatoire_bench_submit"
CLIENTS = 50
USERNAME_PREFIX = "bench-submit-"
COMPANY_PREFIX = "Banc d'essai envoi "
PASSWORD = "bench-submit-2026"
JOBS_PER_DIAGNOSTIC = 2
RESULT_MARK = "SUBMIT-BENCH-JSON "


def add_arguments(parser) -> None:
    group = parser.add_argument_group("submissions")
    group.add_argument("--submit-database-url", default=SUBMIT_DATABASE, help=f"database ({SUBMIT_DATABASE})")
    group.add_argument("--submit-clients", type=int, default=CLIENTS, help=f"concurrent companies ({CLIENTS})")


def run(args) -> dict[str, float]:
    import tempfile

    database_url = args.submit_database_url
    clients = args.submit_clients
    create_postgres_database(database_url)
    child_env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": ""}
    parts = urlsplit(database_url)
    say(f"database: {parts.path.lstrip('/')} on {parts.hostname}:{parts.port or 5432}")
    manage(["migrate", "--noinput", "-v0"], env=child_env)
    clock = time.perf_counter()
    plan = _child(f"seed_companies({clients})", child_env)
    say(f"seed: {clients} companies and owners, {plan['setup']} ({time.perf_counter() - clock:.1f} s)")

    with tempfile.TemporaryDirectory(prefix="observatoire-bench-static-") as static_root:
        env = server_environment(database_url, static_root)
        manage(["collectstatic", "--noinput", "-v0"], env=env)
        with gunicorn(env) as base_url:
            say(f"machine: load average {os.getloadavg()[0]:.1f} over 1 min, {os.cpu_count()} CPUs")
            burst = run_burst(base_url, plan)
            say(f"machine: load average {os.getloadavg()[0]:.1f} over 1 min")
    counts = _child(f"count_outcomes({plan['company_ids']!r})", child_env)
    for failure in burst["failures"][:10]:
        say(f"failure: {failure}")
    durations = burst["durations_ms"]
    say(
        f"clients: {len(durations)} of {clients} completed their submission; {burst['requests']} requests "
        f"in {burst['seconds']:.1f} s ({burst['requests'] / burst['seconds']:.1f}/s, logins before the start)"
    )
    return {
        "submit_lost": counts["lost"],
        "submit_duplicates": counts["duplicates"],
        "submit_p99_ms": percentile(durations, 99),
        "submit_p50_ms": percentile(durations, 50),
        "submit_seconds": burst["seconds"],
        "submit_errors": burst["errors"],
    }


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (a value that was measured; with 50 values the p99 is the
    slowest); NaN without values."""
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} outside (0, 100]")
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


# --- The database (run in a child process on the submissions database) ---------------------


def _child(call: str, env: dict) -> dict:
    """Run `bench.submissions.<call>` in `manage.py shell` on the child's database; its JSON."""
    code = f"import json, bench.submissions as b; print({RESULT_MARK!r} + json.dumps(b.{call}))"
    output = manage(["shell", "-c", code], env=env)
    line = next(line for line in output.splitlines() if line.startswith(RESULT_MARK))
    return json.loads(line.removeprefix(RESULT_MARK))


def seed_companies(count: int) -> dict:
    """The reference and a current campaign when missing, then `count` fresh companies, each
    with an active owner; the companies and users of an earlier run are removed first."""
    import io

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from companies import maturity
    from companies.diagnostic.selectors import region_communes, sous_classes
    from companies.models import Company, CompanyMembership, Diagnostic, Establishment, JobPosition, Territory
    from companies.validators import luhn_complete
    from observatory.demo import ensure_current_campaign
    from observatory.reference import default_reference_dir, load_reference
    from skills.models import Occupation

    setup = "reference already loaded"
    if not Territory.objects.exists():
        load_reference(default_reference_dir())
        setup = "reference loaded"
    ensure_current_campaign(io.StringIO())
    User = get_user_model()
    with transaction.atomic():
        old = Company.objects.filter(name__startswith=COMPANY_PREFIX)
        JobPosition.objects.filter(establishment__company__in=old).delete()
        Diagnostic.objects.filter(company__in=old).delete()
        Establishment.objects.filter(company__in=old).delete()
        old.delete()
        User.objects.filter(username__startswith=USERNAME_PREFIX).delete()
        # One hash for all: 50 PBKDF2 hashes would take longer than the burst itself.
        password = make_password(PASSWORD)
        companies = Company.objects.bulk_create(
            Company(siren=luhn_complete(f"99{index:06d}"), name=f"{COMPANY_PREFIX}{index:02d}")
            for index in range(count)
        )
        users = User.objects.bulk_create(
            User(username=f"{USERNAME_PREFIX}{index:02d}", password=password, email=f"envoi{index}@example.org")
            for index in range(count)
        )
        CompanyMembership.objects.bulk_create(
            CompanyMembership(
                user=user,
                company=company,
                role=CompanyMembership.Role.OWNER,
                status=CompanyMembership.Status.ACTIVE,
            )
            for user, company in zip(users, companies, strict=True)
        )
    fiches = list(Occupation.objects.fiches().order_by("code").values_list("code", flat=True)[:JOBS_PER_DIAGNOSTIC])
    return {
        "setup": setup,
        "company_ids": [company.pk for company in companies],
        "clients": [
            {
                "username": user.username,
                "company_id": company.pk,
                "company_name": company.name,
                "siret": luhn_complete(company.siren + "0000"),
            }
            for user, company in zip(users, companies, strict=True)
        ],
        "sector": sous_classes().order_by("code").values_list("code", flat=True).first(),
        "commune": region_communes().order_by("code").values_list("code", flat=True).first(),
        "occupations": fiches,
        "maturity": {item.key: index % 5 for index, item in enumerate(maturity.ITEMS)},
    }


def count_outcomes(company_ids: list[int], *, jobs_per_diagnostic: int = JOBS_PER_DIAGNOSTIC) -> dict:
    """What the burst stored, per company: lost when it has no submitted diagnostic or fewer
    job positions from it than jobs described; each extra submitted diagnostic and each
    position beyond the expected ones is a duplicate."""
    from django.db.models import Count, Q

    from companies.models import Company, Diagnostic, JobPosition

    rows = Company.objects.filter(pk__in=company_ids).annotate(
        submitted=Count("diagnostics", filter=Q(diagnostics__status=Diagnostic.Status.SUBMITTED), distinct=True),
    )
    submitted = {row.pk: row.submitted for row in rows}
    positions = dict.fromkeys(company_ids, 0)
    for company_id, number in (
        JobPosition.objects.filter(diagnostic__company_id__in=company_ids, source=JobPosition.Source.DIAGNOSTIC)
        .values_list("diagnostic__company_id")
        .annotate(n=Count("pk"))
    ):
        positions[company_id] = number
    lost = duplicates = 0
    for company_id in company_ids:
        done = submitted.get(company_id, 0)
        if done == 0 or positions[company_id] < jobs_per_diagnostic:
            lost += 1
        duplicates += max(done - 1, 0) + max(positions[company_id] - jobs_per_diagnostic, 0)
    return {"lost": lost, "duplicates": duplicates}


# --- The clients ----------------------------------------------------------------------------


class FlowError(Exception):
    """A page other than the one a person would have seen next."""


class Session:
    """One person's browser: cookies kept by hand (without debug they are `Secure`, which a
    cookie jar keeps off plain http), the CSRF token of the last form, no redirect followed."""

    def __init__(self, base_url: str, session_id: str, stats: dict, lock: threading.Lock):
        self.base_url = base_url
        self.jar = {"sessionid": session_id}
        self.token = ""
        self.stats = stats
        self.lock = lock

    def _send(self, method: str, path: str, form: dict | list | None = None) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())}
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form, doseq=True)
        try:
            status, content, set_cookie, location = fetch(method, self.base_url + path, headers=headers, body=body)
        except OSError as error:
            self._error()
            raise FlowError(f"{method} {path}: {type(error).__name__} {error}") from error
        with self.lock:
            self.stats["requests"] += 1
        if status >= 400:
            self._error()
            raise FlowError(f"{method} {path}: status {status}")
        with self.lock:
            self.jar.update(cookies(set_cookie))
        text = content.decode("utf-8", "replace")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if token:
            self.token = token.group(1)
        return status, text, location

    def _error(self) -> None:
        with self.lock:
            self.stats["errors"] += 1

    def page(self, path: str) -> tuple[str, int]:
        """GET a form page: its HTML and the `version` it was rendered from."""
        status, text, _ = self._send("GET", path)
        if status != 200:
            raise FlowError(f"GET {path}: status {status}, expected the form")
        version = re.search(r'name="version" value="(\d+)"', text)
        return text, int(version.group(1)) if version else 0

    def post(self, path: str, form: dict | list, expect: str) -> str:
        """POST a form; the redirect must lead to a path containing `expect`."""
        fields = list(form.items()) if isinstance(form, dict) else list(form)
        status, text, location = self._send("POST", path, [("csrfmiddlewaretoken", self.token), *fields])
        if status != 302 or not urlsplit(location).path.endswith(expect):
            errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>\s*([^<]{3,200})', text)
            raise FlowError(f"POST {path}: status {status} to {location or '-'}, expected {expect}; {errors[:3]}")
        return location


def fetch(method: str, url: str, *, headers: dict, body: str | None = None) -> tuple[int, bytes, list[str], str]:
    """bench.pages.request, with the redirect's Location, which the walk follows by hand."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        content = response.read()
        return (
            response.status,
            content,
            response.headers.get_all("Set-Cookie") or [],
            response.getheader("Location", ""),
        )
    finally:
        connection.close()


def run_burst(base_url: str, plan: dict) -> dict:
    """All clients log in, wait at a barrier, then walk and submit; durations, errors, wall time."""
    clients = plan["clients"]
    stats = {"errors": 0, "requests": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients) + 1)
    durations: list[float] = []
    failures: list[str] = []

    def client(spec: dict) -> None:
        session = None
        try:
            session = Session(base_url, login(base_url, spec["username"], PASSWORD), stats, lock)
        except Exception as error:  # the barrier must still be reached
            failures.append(f"{spec['username']} login: {error}")
            with lock:
                stats["errors"] += 1
        barrier.wait()
        if session is None:
            return
        try:
            start = time.perf_counter()
            walk_and_submit(session, spec, plan)
            with lock:
                durations.append((time.perf_counter() - start) * 1e3)
        except Exception as error:
            with lock:
                failures.append(f"{spec['username']}: {error}")

    threads = [threading.Thread(target=client, args=(spec,)) for spec in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    clock = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - clock
    return {"durations_ms": durations, "failures": failures, "seconds": seconds, **stats}


def walk_and_submit(session: Session, spec: dict, plan: dict) -> None:
    """The questionnaire as a person fills it, then the submit posted twice at once."""
    session.page("/diagnostic/")
    location = session.post("/diagnostic/commencer/", {"company": spec["company_id"]}, "/identite/")
    diagnostic = re.search(r"/diagnostic/(\d+)/", location).group(1)
    root = f"/diagnostic/{diagnostic}/"

    _, version = session.page(root + "identite/")
    identity = {
        "siret": spec["siret"],
        "company_name": spec["company_name"],
        "sector": plan["sector"],
        "commune": plan["commune"],
        "size_band": "10-49",
        "version": version,
        "action": "continue",
    }
    session.post(root + "identite/", identity, "/maturite/")

    _, version = session.page(root + "maturite/")
    session.post(root + "maturite/", {**plan["maturity"], "version": version, "action": "continue"}, "/metiers/")

    shares = (
        {"rc": 40, "rm": 0, "nra": 30, "nri": 30, "nrm": 0},
        {"rc": 10, "rm": 20, "nra": 20, "nri": 10, "nrm": 40},
    )
    for number, (code, share) in enumerate(zip(plan["occupations"], shares, strict=True)):
        _, version = session.page(root + "metiers/")
        last = number == len(plan["occupations"]) - 1
        job = {"occupation": code, "headcount": 3 + number, **share, "version": version}
        if number == 0:
            job["training_need"] = "on"
        job["action"] = "continue" if last else "add"
        session.post(root + "metiers/", job, "/verification/" if last else "/metiers/")

    _, version = session.page(root + "verification/")
    outcomes: list[str | Exception] = [None, None]

    def submit(slot: int) -> None:
        try:
            outcomes[slot] = session.post(root + "envoyer/", {"version": version}, root)
        except Exception as error:
            outcomes[slot] = error

    double = [threading.Thread(target=submit, args=(slot,)) for slot in (0, 1)]
    for thread in double:
        thread.start()
    for thread in double:
        thread.join()
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
