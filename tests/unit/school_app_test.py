"""`run_school`: the sweep runs on the event loop, where the agency client's inbox handler runs
too, so the two never release the same waiting return at once within one process."""

import asyncio
import threading
from typing import Any, cast

from adapters.school.adapter import SweepReport
from adapters.school.app import SchoolApp, run_school
from adapters.school.settings import SchoolSettings


class FakeClient:
    """The agency client's lifecycle, without AMQP."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class FakeAdapter:
    """Records the thread each sweep ran on, and stops the run after the first."""

    def __init__(self, stop: asyncio.Event) -> None:
        self._stop = stop
        self.threads: list[int] = []

    def sweep(self) -> SweepReport:
        self.threads.append(threading.get_ident())
        self._stop.set()
        return SweepReport((), 0)


def test_the_sweep_runs_on_the_event_loop_not_in_a_thread() -> None:
    async def run() -> tuple[list[int], int]:
        stop = asyncio.Event()
        adapter = FakeAdapter(stop)
        app = SchoolApp(
            adapter=cast(Any, adapter),
            importer=cast(Any, None),
            client=cast(Any, FakeClient()),
            settings=SchoolSettings(),
        )
        await asyncio.wait_for(run_school(app, stop), timeout=10)
        return adapter.threads, threading.get_ident()

    threads, loop_thread = asyncio.run(run())
    assert threads == [loop_thread]
