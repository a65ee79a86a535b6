"""The shopper offline: server drafts and the service worker (SPEC §7)."""

from .views import bp  # noqa: F401
