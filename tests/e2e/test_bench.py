"""The pipeline benchmark still runs end to end (tiny figures: this guards the script, it
measures nothing; the figures themselves come from full runs, see bench/pipeline.py)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench" / "pipeline.py"


def test_pipeline_benchmark_runs_and_its_ledger_verifies(rabbitmq_url: str) -> None:
    args = ["--messages", "60", "--rate", "40", "--seconds", "1", "--warmup", "0.5"]
    args += ["--ledger-entries", "2000", "--url", rabbitmq_url, "--json"]
    run = subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["raw_per_s"] > 0
    assert figures["secure_per_s"] > 0
    # Every message of the warm-up, latency and throughput phases, and their receipts.
    assert figures["pipeline_ledger_entries_verified"] >= 20 + 40 + 60
    for leg in ("", "to_hub_", "hub_to_la_"):
        assert 0 < figures[f"{leg}p50_ms"] <= figures[f"{leg}p99_ms"]
    assert figures["p50_ms"] >= figures["to_hub_p50_ms"]
    assert figures["ledger_entries"] == 2000
    assert figures["ledger_verify_s"] > 0
    for phase in ("latency", "throughput"):
        for role in ("school", "router", "la"):
            assert figures[f"cpu_{phase}_{role}_ms_per_msg"] > 0  # each process did work
    assert figures["cores_needed_at_offered_rate"] > 0
    assert 0 <= figures["machine_idle_pct"] <= 100
    assert 0 <= figures["machine_steal_pct"] <= 100
    assert 0 <= figures["machine_iowait_pct"] <= 100
    assert set(figures["targets_met"]) == {"ratio>=0.5", "p99<100ms", "ledger_100k<10s"}
