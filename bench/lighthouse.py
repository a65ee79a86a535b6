"""Lighthouse (mobile defaults) on the shopper's pages: performance, accessibility, best practices.

Run with ``.venv/bin/python bench/lighthouse.py``. It builds the app on a throw-away SQLite
file, serves it on loopback with gzip (as a production proxy would), and runs Lighthouse 12
in Debian's Chromium on a fresh link, a link once received, and a link not open yet
(Lighthouse audits only pages answered with 200, so the expired and cancelled pages, 410, are left
to tests/e2e/test_a11y.py).
Lighthouse comes from ``node_modules`` if installed there, else ``npx --yes lighthouse@12.8.2``
(downloaded once into npm's cache; it is not in package.json, whose ``npm ci`` stays small).
Then it audits a fresh link and PEERS.md's hand-written floor form (``../shared/peers/``,
served the same way) with the CPU slowed 6x, and prints the form's time to interactive as a
ratio to the floor's (aim: at most 1.3x) and the bytes it transfers (aim: at most 15 KB).
A report, not a test: prints PASS/FAIL against 100/100/100 (PEERS.md) and always exits 0.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from survey import create_app  # noqa: E402
from survey.catalogue import checklist_paths, import_paths  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Branch, Checklist, Region  # noqa: E402
from survey.submissions import create_assignments  # noqa: E402

LIGHTHOUSE = "lighthouse@12.8.2"
CHROMIUM = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices")
BUDGET = 100
#: PEERS.md's hand-written static form: the floor we aim to stay within a small factor of.
FLOOR_FORM = ROOT.parent / "shared" / "peers" / "floor-form.html"
#: PEERS.md: usable within 1.3x of the floor form on a phone with the CPU slowed 6x;
#: at most 15 KB transferred.
SLOW_CPU, AIM_RATIO, AIM_TRANSFER = 6, 1.3, 15 * 1024


class Gzip:
    """WSGI middleware: gzip text responses for clients that accept it, as nginx's ``gzip on`` does."""

    TYPES = ("text/", "application/javascript", "application/json")

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        headers = captured["headers"]
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        if body and kind.startswith(self.TYPES):
            body = gzip.compress(body, 6)
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body))), ("Vary", "Accept-Encoding")]
        start_response(captured["status"], headers)
        return [body]


def build(workdir: Path):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}", "UPLOAD_DIR": str(workdir / "uploads"),
    })
    with app.app_context():
        db.create_all()
        _, errors = import_paths(checklist_paths(ROOT / "checklists"))
        if errors:
            raise SystemExit("the shipped checklists do not import:\n" + "\n".join(map(str, errors)))
        branch = Branch(code="BR-BENCH", name="Bench branch", region=Region(code="BENCH", name="Bench"),
                        address="1 Bench St")
        db.session.add(branch)
        checklist = db.session.scalar(db.select(Checklist).filter_by(slug="store-visit"))
        today = date.today()
        made = create_assignments(checklist, branch, 4, not_before=today - timedelta(days=7),
                                  due=today + timedelta(days=7))
        made[2][0].not_before = today + timedelta(days=3)
        db.session.commit()
        tokens = [token for _, token in made]
    return app, tokens


def receive(app, token: str) -> None:
    """Send a complete store visit through the test client, so the link shows "Already received"."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import good_answers, hidden_fields  # the suite's own flawless visit

    from survey.caches import checklist_of

    from survey.submissions import find_assignment

    client = app.test_client()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    with app.app_context():
        checklist = checklist_of(find_assignment(token).version)
    response = client.post(f"/s/{token}", data={**hidden_fields(page), **good_answers(checklist)})
    assert response.status_code == 303, response.status_code


def lighthouse_command() -> list[str]:
    local = ROOT / "node_modules" / ".bin" / "lighthouse"
    if local.exists():
        return [str(local)]
    if not shutil.which("npx"):
        raise SystemExit("Lighthouse needs Node.js (npx) or node_modules/.bin/lighthouse")
    return ["npx", "--yes", LIGHTHOUSE]


def audit(url: str, out: Path, *extra: str) -> dict:
    command = lighthouse_command() + [
        url, "--quiet", "--output=json", f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}", *extra,
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking",
    ]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    return json.loads(out.read_text())


def summary(report: dict) -> list[str]:
    lines = []
    scores = {c: round((report["categories"][c]["score"] or 0) * 100) for c in CATEGORIES}
    for category, score in scores.items():
        lines.append(f"    {category:<16} {score:>3} of {BUDGET}   {'PASS' if score >= BUDGET else 'FAIL'}")
    audits = report["audits"]
    for key in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift"):
        lines.append(f"    {audits[key]['title']:<28} {audits[key]['displayValue']}")
    requests = audits["network-requests"]["details"]["items"]
    transferred = sum(r.get("transferSize", 0) for r in requests)
    lines.append(f"    requests {len(requests)}, transferred {transferred / 1024:.1f} KB")
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            result = audits[ref["id"]]
            if ref.get("weight") and result.get("score") is not None and result["score"] < 1:
                lines.append(f"      - {category}: {result['title']} ({result.get('displayValue', '')})")
    return lines


def serve_static(html: bytes):
    """Serve one page, gzipped, as PEERS.md measured the floor form."""

    def page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html]

    server = make_server("127.0.0.1", 0, Gzip(page), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def usable(report: dict) -> float:
    """When the page is usable: Lighthouse's time to interactive, in ms."""
    return report["audits"]["interactive"]["numericValue"]


def transferred(report: dict) -> int:
    return sum(r.get("transferSize", 0) for r in report["audits"]["network-requests"]["details"]["items"])


def against_the_floor(origin: str, token: str, tmp: Path) -> None:
    """Compare the form with PEERS.md's floor form on a phone whose CPU is slowed 6x."""
    if not FLOOR_FORM.exists():
        print(f"floor form: {FLOOR_FORM} not found; comparison skipped")
        return
    floor_server = serve_static(FLOOR_FORM.read_bytes())
    slow = f"--throttling.cpuSlowdownMultiplier={SLOW_CPU}"
    try:
        floor = audit(f"http://127.0.0.1:{floor_server.server_port}/", tmp / "floor.json", slow)
        ours = audit(f"{origin}/s/{token}", tmp / "ours.json", slow)
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError) as exc:
        print(f"    Lighthouse did not run: {exc}")
        return
    finally:
        floor_server.shutdown()
    ratio = usable(ours) / usable(floor)
    size = transferred(ours)
    print(f"against PEERS.md's floor form, CPU slowed {SLOW_CPU}x (a fresh link)")
    print(f"    usable (time to interactive)  form {usable(ours) / 1000:.2f} s, floor {usable(floor) / 1000:.2f} s:"
          f" {ratio:.2f}x of {AIM_RATIO}x   {'PASS' if ratio <= AIM_RATIO else 'FAIL'}")
    print(f"    transferred                   form {size / 1024:.1f} KB, floor {transferred(floor) / 1024:.1f} KB:"
          f" aim {AIM_TRANSFER // 1024} KB   {'PASS' if size <= AIM_TRANSFER else 'FAIL'}\n")


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM}; set CHROME_PATH")
        return 0
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as tmp:
        app, (fresh, received, later, compared) = build(Path(tmp))
        receive(app, received)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request would drown the report
        server = make_server("127.0.0.1", 0, Gzip(app), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_port}"
        print(f"Lighthouse ({LIGHTHOUSE}, mobile defaults) on the shopper's pages, Chromium {CHROMIUM}\n")
        try:
            pages = (("form (first opening)", fresh), ("already received", received), ("not open yet", later))
            for name, token in pages:
                print(f"{name}: /s/<token>")
                try:
                    report = audit(f"{origin}/s/{token}", Path(tmp) / "report.json")
                except (subprocess.SubprocessError, OSError, json.JSONDecodeError) as exc:
                    print(f"    Lighthouse did not run: {exc}")
                    continue
                print("\n".join(summary(report)) + "\n")
            against_the_floor(origin, compared, Path(tmp))
        finally:
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
