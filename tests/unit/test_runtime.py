"""`broker.runtime`: long-lived processes stop on SIGTERM and start with a settled heap."""

import asyncio
import gc
import os
import signal
from collections.abc import Iterator

import pytest

from broker.runtime import run_until_signalled, settle_heap


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """The test process must not keep this test's frozen objects for ever."""
    yield
    gc.unfreeze()


def test_settle_heap_exempts_what_is_alive_from_later_collections() -> None:
    gc.unfreeze()
    settle_heap()
    assert gc.get_freeze_count() > 1000  # at least the imports
    frozen = gc.get_freeze_count()
    assert gc.get_count()[2] == 0
    gc.collect()
    assert gc.get_freeze_count() == frozen  # a full collection leaves them alone


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_sets_stop_and_main_finishes_its_work(sig: signal.Signals) -> None:
    steps: list[str] = []

    async def main(stop: asyncio.Event) -> str:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), sig)
        async with asyncio.timeout(5):
            await stop.wait()
        steps.append("stopped")
        await asyncio.sleep(0)  # work in flight still runs after the signal
        steps.append("finished")
        return "done"

    assert run_until_signalled(main) == "done"
    assert steps == ["stopped", "finished"]
    assert signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler)  # restored
