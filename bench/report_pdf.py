"""Time PDF rendering: a ~24-visit branch report and a 50-branch / 1,200-visit region report.

Run: .venv/bin/python bench/report_pdf.py [--runs 5]

For each report it prints the median wall and CPU time of the full path
(``render_report``: templating, charts and WeasyPrint) and of WeasyPrint alone
on the same final HTML, run alternately, their ratio (target ≤ 1.3×), and the
peak memory. Targets: region report ≤ 10 s and < 400 MB. On a shared machine
wall time includes other processes' load; CPU time is the render's own cost.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from weasyprint import HTML  # noqa: E402

from reports import pdf  # noqa: E402
from survey import create_app  # noqa: E402
from tests.report_samples import branch_sample, region_sample  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def runs_text(times: list[float]) -> str:
    return " ".join(f"{t:.2f}" for t in times)


def measure(fn) -> tuple[float, float, object]:
    """Run ``fn`` once; return its wall time, its CPU time and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def bench(name: str, data: dict, runs: int) -> dict:
    font_config, css = pdf._print_setup()
    html = pdf.render_html(data)

    def full() -> bytes:
        return pdf.render_report(data)

    def weasy_alone() -> bytes:
        document = HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=pdf.safe_fetcher)
        return document.write_pdf(stylesheets=[css], font_config=font_config)

    full()  # warm: fonts, stylesheet, template cache
    # Alternate the two paths so that load from other processes hits both alike.
    walls: dict[str, list[float]] = {"full": [], "alone": []}
    cpus: dict[str, list[float]] = {"full": [], "alone": []}
    document = b""
    for _ in range(runs):
        for key, fn in (("full", full), ("alone", weasy_alone)):
            wall, cpu, result = measure(fn)
            walls[key].append(wall)
            cpus[key].append(cpu)
            if key == "full":
                document = result
    tracemalloc.start()
    full()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    med = {k: statistics.median(v) for k, v in walls.items()}
    cpu_med = {k: statistics.median(v) for k, v in cpus.items()}
    print(name)
    print(
        f"  render_report (full path)    wall median {med['full']:6.2f} s, "
        f"CPU {cpu_med['full']:5.2f} s   wall runs {runs_text(walls['full'])}"
    )
    print(
        f"  WeasyPrint alone, same HTML  wall median {med['alone']:6.2f} s, "
        f"CPU {cpu_med['alone']:5.2f} s   wall runs {runs_text(walls['alone'])}"
    )
    print(
        f"  ratio full / WeasyPrint      wall {med['full'] / med['alone']:.2f} ×, "
        f"CPU {cpu_med['full'] / cpu_med['alone']:.2f} ×   (target ≤ 1.30)"
    )
    print(f"  PDF {len(document) / 1024:.0f} kB, HTML {len(html) / 1024:.0f} kB")
    print(f"  Python heap peak during one render (tracemalloc) {traced_peak / 2**20:.0f} MB")
    print(f"  process peak RSS so far {peak_rss_mb():.0f} MB")
    return {
        "median": med["full"],
        "cpu": cpu_med["full"],
        "ratio": cpu_med["full"] / cpu_med["alone"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench"}
    )
    with app.app_context():
        branch = bench("Branch report, 24 visits", branch_sample(24), args.runs)
        region = bench(
            "Region report, 50 branches / 1,200 visits",
            region_sample(50, 1200, empty_branches=2),
            max(3, args.runs // 2),
        )
    rss = peak_rss_mb()
    # CPU time is what the render costs; wall time also counts other processes' load.
    ok = branch["ratio"] <= 1.3 and region["cpu"] <= 10 and rss < 400
    print(
        f"\npeak RSS {rss:.0f} MB (target < 400); "
        f"region median {region['median']:.2f} s wall, {region['cpu']:.2f} s CPU (target ≤ 10); "
        f"branch ratio {branch['ratio']:.2f} CPU (target ≤ 1.30): {'OK' if ok else 'OVER TARGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
