"""gunicorn's settings for the README's deployment; ``gunicorn wsgi:app`` reads this file from the checkout.

Why these (bench/server_load.py measures them; figures in bench/README.md):

- Threaded workers (``gthread``), not gunicorn's default sync ones. A sync worker reads one
  connection at a time: 200 connections opened and left idle held all 4 workers, and shoppers
  got nothing for as long as they were held. A gthread worker hands a new connection to a
  thread, which waits a moment for its first bytes and then gives it back to the worker's
  poller; gunicorn 27 waits 5 s, so 200 silent connections still kept 8 threads per worker
  busy in turns and a quarter of shoppers waited over 10 s. Waiting 0.5 s (``_first_bytes``
  below) and 16 threads served every shopper, the slowest in 1.5 s. Requests that trickle in
  byte by byte still hold a thread: the reverse proxy in front (README) reads every request
  whole before passing it on, and then gunicorn sees no slow client at all.
- ``timeout`` 60 s: the longest honest request is a region PDF (under 10 s on 2 CPUs, see
  bench/report_pdf.py); a branch PDF is bounded whatever the visits (reports/bounds.py). A
  database that hangs fails a request after SURVEY_DB_TIMEOUT (5 s) with a 503.
- ``max_requests``: a worker is replaced after that many requests, so memory WeasyPrint and
  fontconfig keep after large reports is given back.

Every setting can be overridden on the command line or with GUNICORN_CMD_ARGS; the few read
from the environment here are the ones a host usually sizes.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
#: Two per CPU suits these 2-CPU hosts: a PDF render is single-threaded and holds the GIL.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
#: Requests served at once per worker; the database pool (5 + 10 overflow) nearly as large.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
#: Connections a worker keeps open at once (idle keep-alive ones included).
worker_connections = 1000
timeout = 60
graceful_timeout = 30
#: Seconds an idle keep-alive connection is kept; behind a proxy that pools connections, a little more.
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
#: Request line and headers: generous for our URLs and cookies, small enough to refuse junk early.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190


def _first_bytes(seconds: float = 0.5) -> None:
    """Let a gthread thread wait ``seconds`` (not gunicorn's 5) for a new connection's first bytes.

    gunicorn has no setting for it, only a module constant (added in gunicorn 27; before, new
    connections went to the poller at once and this is not needed). A client that is slower
    than this is not refused: its connection waits in the poller, without a thread.
    """
    from gunicorn.workers import gthread

    if hasattr(gthread, "DEFAULT_WORKER_DATA_TIMEOUT"):
        gthread.DEFAULT_WORKER_DATA_TIMEOUT = seconds


_first_bytes()
