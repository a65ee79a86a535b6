"""The shopper's script and stylesheet served lean: without comments and needless spaces.

The store visit's page is budgeted at 40 KiB of HTML, CSS and JS in 3 requests
(bench/shopper_page.py). The files in ``static/`` keep their comments for the people who
read them; a phone gets them minified, made once per process (``caches.lean_assets``).
"""

from __future__ import annotations

from pathlib import Path

import rcssmin
import rjsmin
from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

from .caches import lean_assets

#: File suffix → (minifier, media type).
LEAN = {".js": (rjsmin.jsmin, "text/javascript"), ".css": (rcssmin.cssmin, "text/css")}


def register_lean_static(app: Flask) -> None:
    """Serve ``/static/*.js`` and ``*.css`` minified; every other static file as Flask does."""
    plain = app.view_functions["static"]

    def static(filename: str):
        found = safe_join(app.static_folder, filename)
        path = Path(found) if found else None
        if path is None or path.suffix not in LEAN or not path.is_file():
            return plain(filename=filename)
        minify, mimetype = LEAN[path.suffix]
        stat = path.stat()
        body = lean_assets.get((filename, stat.st_mtime_ns),
                               lambda: minify(path.read_text(encoding="utf-8")).encode())
        response = Response(body, mimetype=mimetype)
        response.last_modified = stat.st_mtime
        max_age = current_app.get_send_file_max_age(filename)
        response.cache_control.public = True
        if max_age is None:
            response.cache_control.no_cache = True
        else:
            response.cache_control.max_age = max_age
        response.add_etag()
        return response.make_conditional(request)

    app.view_functions["static"] = static
