"""A directory snapshot that reloads whenever the directory's revision counter moves.

Checking the counter is one tiny query, so the router and the endpoints check it for every
batch and see a revocation at once; the snapshot (every key, parsed) is rebuilt only after a
change.
"""

from broker.directory.model import DirectorySnapshot
from broker.directory.store import SqlDirectoryStore


class RevisionCachedDirectory:
    """Hands out the current snapshot of a `SqlDirectoryStore`."""

    def __init__(self, store: SqlDirectoryStore) -> None:
        self._store = store
        self._revision = -1
        self._snapshot = DirectorySnapshot((), ())

    def current(self) -> DirectorySnapshot:
        """The snapshot as of now (reloaded only if the directory changed)."""
        revision = self._store.revision()
        if revision != self._revision:
            self._snapshot = self._store.snapshot()
            self._revision = revision
        return self._snapshot
