"""A report renders no remote resource, ever: shopper text is printed, never fetched (SPEC §6)."""

from __future__ import annotations

import re
import socket
import threading
from io import BytesIO
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from reports import pdf
from reports.pdf import BASE_URL, RefusedURL, html_to_pdf, render_html, render_report, safe_fetcher
from tests import report_samples as samples


@pytest.fixture
def listener():
    """A real TCP server on a free loopback port that records every connection it receives."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    connections: list[tuple] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, address = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(address)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join(timeout=2)
    server.close()


def squeeze(text: str) -> str:
    """Drop all whitespace, so text wrapped across lines still matches."""
    return re.sub(r"\s+", "", text)


def pdf_text(document: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(document)).pages)


def hostile_comments(port: int) -> list[str]:
    return [
        f'<img src="http://127.0.0.1:{port}/x.png">',
        f'<link rel=stylesheet href="http://127.0.0.1:{port}/s.css">',
        '<img src="file:///etc/passwd">',
        "<script>alert('x')</script>",
    ]


def test_shopper_html_is_printed_and_never_fetched(app, listener):
    port, connections = listener
    data = samples.branch_sample(3)
    data["comments"] = [
        {"date": "2026-05-01", "question": "Describe who served you", "text": text}
        for text in hostile_comments(port)
    ]

    html = render_html(data)
    document = render_report(data)

    assert connections == []
    assert f"&lt;img src=&#34;http://127.0.0.1:{port}/x.png&#34;&gt;" in html
    assert "<script>" not in html
    text = squeeze(pdf_text(document))
    for comment in hostile_comments(port):
        assert squeeze(comment) in text
    assert "root:" not in text


def test_fetcher_refuses_remote_and_local_files_even_in_raw_html(listener):
    """Defence in depth: markup that did get through would still load nothing but our assets."""
    port, connections = listener
    origin = f"http://127.0.0.1:{port}"
    data_svg = quote(
        f"<svg xmlns='http://www.w3.org/2000/svg'><image href='{origin}/d.png'/></svg>"
    )
    raw = f"""<!doctype html>
      <html><head>
        <link rel="stylesheet" href="{origin}/a.css">
        <link rel="attachment" href="file:///etc/passwd">
        <link rel="attachment" href="{origin}/file.bin">
        <style>@import url("{origin}/b.css"); body {{ background: url("{origin}/bg.png") }}
          @font-face {{ font-family: X; src: url("{origin}/f.ttf") }} p {{ font-family: X }}</style>
      </head><body>
        <p>Visible text</p>
        <img src="{origin}/i.png"> <img src="file:///etc/passwd"> <img src="../../../../etc/passwd">
        <img src="data:image/svg+xml,{data_svg}">
        <object data="{origin}/o.svg" type="image/svg+xml"></object> <embed src="{origin}/e.svg">
        <iframe src="{origin}/frame.html"></iframe>
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
             width="10" height="10">
          <image href="{origin}/s.png" width="10" height="10"/><image xlink:href="file:///etc/passwd"/></svg>
      </body></html>"""

    document = html_to_pdf(raw)

    assert connections == []
    reader = PdfReader(BytesIO(document))
    assert reader.attachments == {}
    assert "Visible text" in pdf_text(document)
    assert b"root:x:0:0" not in document


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/report.css",
        "https://example.com/report.css",
        "ftp://example.com/report.css",
        "data:text/css,body{color:red}",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "file://otherhost" + BASE_URL.removeprefix("file://") + "report.css",
        BASE_URL + "../pdf.py",
        BASE_URL + "fonts/../../pdf.py",
        BASE_URL + "%2e%2e/pdf.py",
        BASE_URL + "..%2fpdf.py",
        BASE_URL + "fonts",
        BASE_URL + "missing.css",
        BASE_URL + "report.css%00.png",
        BASE_URL + "fonts/build_fonts.py",
        BASE_URL + "fonts/SHA256SUMS",
        "report.css",
    ],
)
def test_safe_fetcher_refuses(url):
    with pytest.raises(RefusedURL):
        safe_fetcher(url)


def test_safe_fetcher_refuses_a_symlink_out_of_the_assets(tmp_path, monkeypatch):
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "evil.css").symlink_to("/etc/passwd")
    monkeypatch.setattr(pdf, "ASSETS", assets.resolve())
    with pytest.raises(RefusedURL):
        safe_fetcher((assets / "evil.css").as_uri())


@pytest.mark.parametrize(
    "name, media_type",
    [
        ("report.css", "text/css"),
        ("fonts/DejaVuSans.ttf", "font/ttf"),
        ("fonts/NotoSansCJKsc-Regular-subset.otf", "font/otf"),
    ],
)
def test_safe_fetcher_serves_assets(name, media_type):
    response = safe_fetcher(BASE_URL + name)
    try:
        body = response.read()
    finally:
        response.close()
    assert body == (pdf.ASSETS / name).read_bytes()
    assert response.content_type == media_type
