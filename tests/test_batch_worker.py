"""A batch of every branch's PDF (issue 16.3) on real worker processes: one killed with SIGKILL in
the middle of a PDF loses nothing, and the batch ends with exactly one PDF per branch."""

from __future__ import annotations

import signal
from datetime import date, timedelta
from pathlib import Path

from survey import delivery
from survey.extensions import db
from survey.jobs import run_periodic
from survey.models import BatchPdf, PdfState, utcnow

from .test_worker import GIVE_UP, log_of, start_worker, wait_for  # noqa: F401  (fixture)

BRANCHES = 8


def states() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(db.select(BatchPdf.state, db.func.count()).group_by(BatchPdf.state)).all()
    return {state.name: n for state, n in rows}


def test_a_batch_resumes_after_a_worker_is_killed_and_makes_each_pdf_once(app, make_branch, start_worker):
    for n in range(BRANCHES):
        make_branch(f"BR-{n:03d}", "NORTH" if n % 2 else "SOUTH")
    started = delivery.start_batch(date(2026, 10, 1), "pdfs", "test")
    assert (started.branches, started.regions, started.mails) == (BRANCHES, 0, 0)

    first = start_worker("--no-periodic", "-w", "1")
    # Killed while it makes a PDF, after it has made at least one.
    wait_for(lambda: states().get("done", 0) >= 1 and states().get("making", 0) == 1, first, "make PDFs")
    first.kill()
    first.wait()
    at_kill = states()
    assert at_kill.get("making") == 1 and at_kill.get("done", 0) < BRANCHES, at_kill

    # Minutes later the sweep finds the PDF's worker gone and queues it again.
    db.session.execute(db.update(BatchPdf).where(BatchPdf.state == PdfState.making)
                       .values(claimed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    run_periodic("delivery_sweep")
    assert states().get("making", 0) == 0

    second = start_worker("--no-periodic", "-w", "2", "-k", "process")
    wait_for(lambda: states() == {"done": BRANCHES}, second, "finish the batch")
    second.send_signal(signal.SIGTERM)
    assert second.wait(GIVE_UP) == 0, log_of(second)

    rows = db.session.scalars(db.select(BatchPdf).order_by(BatchPdf.code)).all()
    assert [r.code for r in rows] == [f"BR-{n:03d}" for n in range(BRANCHES)]
    assert sum(r.attempts for r in rows) == BRANCHES + 1  # the killed one, made again once
    # Exactly one file per branch in the store: the killed try's file (if it wrote one) is gone.
    files = sorted(p.name for p in (Path(app.config["UPLOAD_DIR"]) / delivery.FOLDER).iterdir())
    assert files == sorted(r.stored_name for r in rows)
    assert {r.filename for r in rows} == {f"BR-{n:03d}_2026-10-01_2026-10-31.pdf" for n in range(BRANCHES)}
    assert all(Path(app.config["UPLOAD_DIR"], delivery.FOLDER, r.stored_name).read_bytes().startswith(b"%PDF")
               for r in rows)
