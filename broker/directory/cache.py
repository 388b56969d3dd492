"""A directory snapshot that reloads whenever the directory's revision counter moves.

Checking the counter is one tiny query, so the router and the endpoints check it for every
batch and see a revocation at once; the snapshot (every key, parsed) is rebuilt only after a
change.
"""

import threading

from broker.directory.model import DirectorySnapshot
from broker.directory.store import SqlDirectoryStore


class RevisionCachedDirectory:
    """Hands out the current snapshot of a `SqlDirectoryStore`."""

    def __init__(self, store: SqlDirectoryStore) -> None:
        self._store = store
        self._revision = -1
        self._snapshot = DirectorySnapshot((), ())
        # The gateway asks from worker threads while the router asks on the event loop: two
        # interleaved reloads must not leave an older snapshot under a newer revision.
        self._lock = threading.Lock()

    def current(self) -> DirectorySnapshot:
        """The snapshot as of now (reloaded only if the directory changed)."""
        with self._lock:
            revision = self._store.revision()
            if revision != self._revision:
                self._snapshot = self._store.snapshot()
                self._revision = revision
            return self._snapshot
