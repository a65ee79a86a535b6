"""Locust users for bench/chain_load.py: shoppers sending forms while managers read reports.

Not run by itself: chain_load.py seeds the database, starts the hosts and the proxy, and passes
what the users need in the environment (LOAD_TOKENS: a file of open links, one per line;
LOAD_ANSWERS: a JSON file of a flawless store visit; LOAD_MANAGERS: JSON [[email, password,
[branch codes]], ...]). Each shopper link is used once, as in life.
"""

from __future__ import annotations

import json
import os
import random
import re
from itertools import count

from locust import HttpUser, between, task

TOKENS = open(os.environ["LOAD_TOKENS"]).read().split()
ANSWERS = json.load(open(os.environ["LOAD_ANSWERS"]))
MANAGERS = json.load(open(os.environ["LOAD_MANAGERS"]))
_next_token = count()
_next_manager = count()

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
NAME = re.compile(r'name="([^"]+)"')
VALUE = re.compile(r'value="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in HIDDEN.findall(page):
        name, value = NAME.search(tag), VALUE.search(tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


class Shopper(HttpUser):
    """Opens a fresh link, then sends the form the way form.js does (X-Outbox; no redirect)."""

    weight = 8
    wait_time = between(0.5, 2)

    @task
    def visit(self):
        index = next(_next_token)
        if index >= len(TOKENS):
            self.environment.runner.quit()  # every link sent: the run is over
            return
        path = f"/s/{TOKENS[index]}"
        page = self.client.get(path, name="shopper: open link")
        if page.status_code != 200:
            return
        fields = {**hidden_fields(page.text), **ANSWERS}
        with self.client.post(path, data=fields, headers={"X-Outbox": "1"}, allow_redirects=False,
                              name="shopper: send form", catch_response=True) as sent:
            if sent.status_code in (204, 303):
                sent.success()
            else:
                sent.failure(f"status {sent.status_code}")


class Manager(HttpUser):
    """Logs in once, then reads the report list and downloads branch and region PDFs."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        email, password, self.branches, self.regions = MANAGERS[next(_next_manager) % len(MANAGERS)]
        page = self.client.get("/login", name="manager: login page")
        token = hidden_fields(page.text).get("csrf_token", "")
        with self.client.post("/login", data={"csrf_token": token, "email": email, "password": password},
                              allow_redirects=False, name="manager: log in", catch_response=True) as done:
            if done.status_code == 302:
                done.success()
            else:
                done.failure(f"login answered {done.status_code}")

    @task(3)
    def report_list(self):
        self.client.get("/reports/", name="manager: report list")

    @task(2)
    def branch_pdf(self):
        code = random.choice(self.branches)
        with self.client.get(f"/reports/branches/{code}.pdf", name="manager: branch PDF",
                             catch_response=True) as pdf:
            if pdf.status_code == 200 and not pdf.content.startswith(b"%PDF"):
                pdf.failure("not a PDF")

    @task(1)
    def region_pdf(self):
        code = random.choice(self.regions)
        with self.client.get(f"/reports/regions/{code}.pdf", name="manager: region PDF",
                             catch_response=True) as pdf:
            if pdf.status_code == 200 and not pdf.content.startswith(b"%PDF"):
                pdf.failure("not a PDF")
