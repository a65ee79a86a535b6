"""Where the shoppers' photos live: a local folder (the default) or S3-compatible object storage.

A second app host cannot read the first one's disk, so a chain running several hosts keeps
photos in a bucket (``UPLOAD_URL=s3://bucket/prefix``). Everything that touches photo files
(storing, publishing after the commit, serving to staff, the purge, the health check) goes
through one ``PhotoStore``, so both places follow the same rules:

- a photo is written under a partial name first and takes its final name only once the row
  naming it is committed; so the purge may delete any final name no row names;
- photos are never public: the bucket needs no public policy, staff get photos through the
  app, which checks access first.

In S3 "rename" is a server-side copy and a delete; a photo is at most a few megabytes.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app


class StoreError(OSError):
    """The store refused or could not be reached; the caller answers "try again"."""


@dataclass(frozen=True)
class Stored:
    name: str
    size: int


class LocalStore:
    """A folder on this host's disk (``UPLOAD_DIR``), outside the web root."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"folder {self.folder}"

    def write(self, name: str, data: bytes) -> None:
        path = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with path.open("xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())  # on disk before a committed row names it
        except OSError as exc:  # a full disk (ENOSPC), a quota, a read-only or missing mount
            path.unlink(missing_ok=True)
            raise StoreError(str(exc)) from exc

    def rename(self, old: str, new: str) -> None:
        try:
            os.replace(self.folder / old, self.folder / new)
        except OSError as exc:
            raise StoreError(str(exc)) from exc

    def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def exists(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def listing(self) -> Iterator[Stored]:
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            try:
                if path.is_file():
                    yield Stored(path.name, path.stat().st_size)
            except FileNotFoundError:
                continue

    def free_mb(self) -> float | None:
        path = self.folder
        while not path.exists() and path != path.parent:  # made with the first photo
            path = path.parent
        return shutil.disk_usage(path).free / 1024 / 1024

    def check(self) -> None:
        """Nothing to reach: the disk's free space is read by the health check."""


class S3Store:
    """A bucket in S3 or any S3-compatible server (SeaweedFS, MinIO, Ceph), under a prefix.

    Keys come from the environment as boto3 reads them (``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, or an instance role); ``S3_ENDPOINT_URL`` points at a server other
    than AWS. Short timeouts and few retries: a shopper's request must not hang on the store.
    """

    def __init__(self, url: str, endpoint: str | None = None, region: str | None = None):
        import boto3
        from botocore.config import Config

        parts = urlsplit(url)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.url = url
        config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
                        s3={"addressing_style": "path"})
        # A session of its own: boto3's default one keeps the first keys it read for the process.
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint or None,
                                                     region_name=region or None, config=config)
        from botocore.exceptions import BotoCoreError, ClientError
        self._errors = (BotoCoreError, ClientError)

    def __repr__(self) -> str:
        return f"bucket {self.url}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def below(self, folder: str) -> S3Store:
        """The same bucket and client under ``<prefix>/<folder>``: out of the photos' listing."""
        other = copy.copy(self)
        other.prefix = f"{self.prefix}/{folder}" if self.prefix else folder
        other.url = f"{self.url.rstrip('/')}/{folder}"
        return other

    def write(self, name: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data)
        except self._errors as exc:
            raise StoreError(str(exc)) from exc

    def rename(self, old: str, new: str) -> None:
        try:
            self.client.copy_object(Bucket=self.bucket, Key=self.key(new),
                                    CopySource={"Bucket": self.bucket, "Key": self.key(old)})
            self.client.delete_object(Bucket=self.bucket, Key=self.key(old))
        except self._errors as exc:
            raise StoreError(str(exc)) from exc

    def delete(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))
        except self._errors as exc:
            raise StoreError(str(exc)) from exc

    def read(self, name: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        except self._errors as exc:
            raise StoreError(str(exc)) from exc

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except self._errors as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(str(exc)) from exc
        return True

    def listing(self) -> Iterator[Stored]:
        """Every object under the prefix (not below it), page by page: a chain's bucket is large."""
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start, Delimiter="/")
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield Stored(item["Key"][len(start):], item["Size"])
        except self._errors as exc:
            raise StoreError(str(exc)) from exc

    def free_mb(self) -> float | None:
        return None  # a bucket has no disk to fill

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except self._errors as exc:
            raise StoreError(str(exc)) from exc


PhotoStore = LocalStore | S3Store


def parse_upload_url(url: str) -> tuple[str, str]:
    """Check ``UPLOAD_URL`` at start-up; a typo must stop the app, not lose the first photo."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"UPLOAD_URL must look like s3://bucket/prefix, not {url!r}")
    return parts.netloc, parts.path.strip("/")


def init_app(app: Flask) -> None:
    """Open the bucket once per process (boto3's client is thread-safe and pools connections)."""
    url = app.config.get("UPLOAD_URL")
    if url:
        parse_upload_url(url)
        app.extensions["photo_store"] = S3Store(url, app.config.get("S3_ENDPOINT_URL"), app.config.get("S3_REGION"))


def photos() -> PhotoStore:
    """The store this app keeps photos in; a folder is read from the config each time (tests move it)."""
    return current_app.extensions.get("photo_store") or LocalStore(current_app.config["UPLOAD_DIR"])


def objects(folder: str) -> PhotoStore:
    """A store for files the app makes (``reports``: batch PDFs) in a folder below the photos'.

    Below, not beside: the photo purge lists only the top level of ``UPLOAD_DIR`` or the
    bucket's prefix, so it never takes these for photos no row names; every host reads them.
    """
    store = current_app.extensions.get("photo_store")
    if store is not None:
        return store.below(folder)
    return LocalStore(Path(current_app.config["UPLOAD_DIR"]) / folder)
