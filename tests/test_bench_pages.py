"""The page load benchmark's parts that need no server (wrk's output, the summary, the Python
load generator on a local server) and the minimal page it compares against, `/sante/`."""

import http.server
import math
import threading

import pytest
from django.urls import reverse

from bench import pages
from observatory.views import health

# Real outputs of `wrk --latency` 4.1.0 (Debian): a server answering 404 to everything, and
# one that closes most connections without answering.
WRK_404 = """\
Running 2s test @ http://127.0.0.1:18765/absent
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.01ms   20.70ms 210.37ms   94.69%
    Req/Sec   665.95    340.42     1.37k    65.00%
  Latency Distribution
     50%    3.40ms
     75%    6.60ms
     90%   14.32ms
     99%  122.58ms
  2674 requests in 2.10s, 1.33MB read
  Non-2xx or 3xx responses: 2674
Requests/sec:   1271.98
Transfer/sec:    645.93KB
"""
WRK_SOCKET_ERRORS = """\
Running 2s test @ http://127.0.0.1:18767/sante/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 2.13s, 0.00B read
  Socket errors: connect 0, read 8, write 153703, timeout 0
Requests/sec:      0.00
Transfer/sec:       0.00B
"""


def test_wrk_output_gives_rate_p99_requests_and_errors():
    assert pages.parse_wrk(WRK_404) == {"rps": 1271.98, "p99_ms": 122.58, "requests": 2674, "errors": 2674}


def test_socket_errors_of_every_kind_count_as_errors():
    measure = pages.parse_wrk(WRK_SOCKET_ERRORS)
    assert measure["errors"] == 8 + 153703
    assert measure["rps"] == 0 and measure["requests"] == 0


@pytest.mark.parametrize("shown, ms", [("1.22s", 1220.0), ("850.00us", 0.85), ("122.58ms", 122.58)])
def test_p99_latency_is_converted_to_milliseconds(shown, ms):
    measure = pages.parse_wrk(WRK_404.replace("99%  122.58ms", f"99%  {shown}"))
    assert math.isclose(measure["p99_ms"], ms)


def test_text_that_is_not_wrk_output_is_refused():
    with pytest.raises(ValueError):
        pages.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_summary_takes_medians_sums_errors_and_compares_to_the_minimal_page():
    def measure(rps, p99, errors=0):
        return {"rps": rps, "p99_ms": p99, "requests": 0, "errors": errors}

    results = pages.summarise(
        {
            "minimal_page": [measure(100, 10), measure(120, 30), measure(110, 20)],
            "grid_page": [measure(80, 50, errors=1), measure(70, 40), measure(90, 60, errors=2)],
        }
    )
    assert results == {
        "minimal_page_rps": 110,
        "minimal_page_p99_ms": 20,
        "grid_page_rps": 80,
        "grid_page_vs_minimal": 80 / 110,
        "grid_page_p99_ms": 50,
        "grid_page_errors": 3,
    }


@pytest.fixture
def local_server():
    """A loopback HTTP server answering 200 on / and 404 elsewhere."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status = 200 if self.path == "/" else 404
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_python_load_generator_counts_answers_and_errors(local_server):
    ok = pages.python_load(local_server + "/", "sessionid=x", 0.2)
    assert ok["rps"] > 0 and ok["errors"] == 0 and ok["p99_ms"] > 0
    refused = pages.python_load(local_server + "/absent", "sessionid=x", 0.2)
    assert refused["errors"] == refused["requests"] > 0


# --- /sante/ ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_page_answers_anonymous_visitors_with_one_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Base de données : ok" in response.content.decode()
    assert len(response.content) < 1000


@pytest.mark.django_db
@pytest.mark.parametrize("octets", [1000, 78_097, health.MAX_OCTETS])
def test_health_page_is_padded_to_the_size_asked(client, octets):
    response = client.get(reverse("health"), {"octets": octets})
    assert response.status_code == 200
    assert len(response.content) == octets
    assert response.content.decode().endswith("</html>\n")


@pytest.mark.django_db
@pytest.mark.parametrize("octets", [health.MAX_OCTETS + 1, 10**12])
def test_health_page_padding_is_capped(client, octets):
    assert len(client.get(reverse("health"), {"octets": octets}).content) == health.MAX_OCTETS


@pytest.mark.django_db
@pytest.mark.parametrize("octets", ["", "-5", "abc", "10"])
def test_health_page_ignores_sizes_it_cannot_honour(client, octets):
    plain = client.get(reverse("health")).content
    assert client.get(reverse("health"), {"octets": octets}).content == plain


@pytest.mark.django_db
def test_health_page_says_503_when_the_database_does_not_answer(client, monkeypatch):
    monkeypatch.setattr(health, "database_answers", lambda: False)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert "injoignable" in response.content.decode()


@pytest.mark.django_db
def test_health_page_is_read_only(client):
    assert client.post(reverse("health")).status_code == 405


@pytest.mark.django_db
def test_render_costs_time_the_grid_page_with_and_without_its_fragments(hand_worked, analyst, monkeypatch, capsys):
    """The in-process measure serves the grid page of a real run both ways; the fragments
    it switches off come back for the next test."""
    import json

    from observatory import services
    from observatory.views import grid

    services.grid_run_compute(services.grid_run_create().pk)
    assert analyst.username == pages.ANALYST[0]
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "testserver")
    monkeypatch.setattr(pages, "RENDER_REQUESTS", 3)
    # Recorded, so that the child's replacements are undone after the test.
    monkeypatch.setattr(grid, "cached_fragments", grid.cached_fragments)
    monkeypatch.setattr(grid, "FRAGMENTS", grid.FRAGMENTS)
    fragments = grid.FRAGMENTS
    pages.render_costs_child()
    costs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(costs) == {"grid_page_fragments_ms", "grid_page_rendered_ms"}
    assert all(math.isfinite(value) and value > 0 for value in costs.values())
    # The second measure kept no fragment: every timeout it left is 0.
    assert {timeout for _fragment, timeout in grid.FRAGMENTS.values()} == {0}
    assert fragments["heatmap"][1] > 0
