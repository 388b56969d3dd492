"""`school watch DIR`: pick up each export file the MIS drops, once.

The MIS's scheduled export writes a file into a directory; the watcher polls it (at a bounded
interval: no file-system notification dependency) and imports each new `.csv` or `.xml` file
once its size and modification time have stayed the same for one interval, so a file still
being written is never read half-way. A file already imported (same content digest) is
skipped; importing one twice would send nothing twice anyway (row idempotency keys), this only
saves the work. A file that changes is looked at again.

One bad file never stops the watcher: a file that cannot be imported, whatever the reason, is
reported (`Picked.problem`) and the scan goes on to the next file. Only a file that could not
be read, or a database that could not be reached, is left to be tried again at the next scan.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError

from adapters.school.errors import SchoolError, UnreadableFile
from adapters.school.importer import Importer, ImportReport, file_format

log = structlog.get_logger(__name__)
SUFFIXES: Final = (".csv", ".xml")


@dataclass(frozen=True, slots=True)
class Picked:
    """One file the watcher dealt with: its report, or the whole-file problem."""

    path: Path
    report: ImportReport | None
    problem: SchoolError | None = None


def _candidate(path: Path) -> bool:
    # Hidden and editor/partial files are someone's work in progress, not an export.
    name = path.name
    return path.suffix.lower() in SUFFIXES and not name.startswith((".", "~"))


class Watcher:
    """Polls one directory for export files."""

    def __init__(
        self,
        directory: Path,
        importer: Importer,
        on_file: Callable[[Picked], None] | None = None,
    ) -> None:
        self.directory = directory
        self._importer = importer
        self._on_file = on_file
        self._last: dict[Path, tuple[int, int]] = {}
        self._done: dict[Path, tuple[int, int]] = {}

    def poll(self, *, require_settled: bool = True) -> list[Picked]:
        """One scan: import each new file whose size and time did not change since the last
        scan (or at once, with `require_settled` False: e.g. a one-off run over files that
        are complete)."""
        picked = []
        for path in sorted(p for p in self.directory.iterdir() if _candidate(p)):
            try:
                stat = path.stat()
            except OSError:
                continue  # moved away between the listing and now
            signature = (stat.st_size, stat.st_mtime_ns)
            previous = self._last.get(path)
            self._last[path] = signature
            if self._done.get(path) == signature:
                continue
            if require_settled and previous != signature:
                continue  # first sight, or still growing: look again next time
            try:
                one = self._take(path)
            except OSError:
                continue  # vanished or unreadable now: a later scan tries again
            except (OperationalError, InterfaceError) as exc:
                # The database, not the file: a later scan tries it again.
                log.error("school.watch_database_error", error=type(exc).__name__)
                continue
            except Exception as exc:  # one bad file must not stop the files after it
                log.error("school.watch_file_failed", error=type(exc).__name__)
                detail = "the file could not be imported (see the adapter's log)"
                one = Picked(path, None, UnreadableFile("import_failed", detail))
            self._done[path] = signature
            if one is not None:
                picked.append(one)
                if self._on_file is not None:
                    self._on_file(one)
        return picked

    def _take(self, path: Path) -> Picked | None:
        try:
            data = self._importer.read(path)
            if self._importer.seen(hashlib.sha256(data).hexdigest()):
                return None
            report = self._importer.import_bytes(data, file_format(path, data))
        except SchoolError as exc:
            log.warning("school.watch_file_refused", reason=exc.reason)
            return Picked(path, None, exc)
        return Picked(path, report)
