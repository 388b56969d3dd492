"""Seal and open throughput on one core, against raw joserfc doing the same JOSE operations.

    .venv/bin/python bench/envelope.py [--messages N] [--rounds R] [--json]

The secure path is `Sealer.seal` + `Opener.open` (allowlists, directory look-ups, pseudonyms,
binding and time checks, schema validation, replay cache). The baseline performs the same
JOSE operations with joserfc directly (inner Ed25519 JWS, ECDH-ES/A256GCM JWE to X25519, outer
Ed25519 JWS; then verify, decrypt, verify) with no validation or bookkeeping. Both run in the
same process on the same keys and payload; each figure is the best of R rounds.
Target (issue 2): seal+open reach at least 60% of the baseline.
"""

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from joserfc import jwe, jws
from joserfc.jwe import JWERegistry
from joserfc.jws import JWSRegistry

from broker.app import Container
from broker.directory.model import KeyUse
from broker.envelope import Draft, HeaderVerifier, MemoryReplayCache, Opener, RecipientIdentity
from broker.envelope.wire import BINDING_CLAIMS
from broker.settings import Settings
from schemas.examples import example_justification, example_payload

SCHOOL, LA = "school:3304000", "la:330"
TARGET = 0.60


def best_rate(n: int, rounds: int, run: Callable[[], object]) -> float:
    """Messages per second of the fastest of `rounds` runs of `run` (which does n messages)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # single core

    container = Container(Settings(data_dir=Path(tempfile.mkdtemp(prefix="cme-bench-"))))
    for agency, name in ((SCHOOL, "Synthetic Primary"), (LA, "LA 330")):
        container.directory_store.add_agency(agency, name)
    snapshot = container.snapshot()
    now = datetime.now(UTC)
    payload = example_payload("school.deletion_return")
    reason = example_justification("school.deletion_return", sender=SCHOOL, recipient=LA)
    sealer = container.sealer(SCHOOL, snapshot)
    la_keys = container.keystore.load_all(LA)

    def opener() -> Opener:  # a fresh replay cache per round: every open is a first delivery
        recipient = RecipientIdentity(LA, la_keys)
        return Opener(recipient, HeaderVerifier(snapshot), MemoryReplayCache(lambda: now))

    n = args.messages
    drafts = [Draft(LA, "school.deletion_return", payload, reason) for _ in range(n)]
    wires = [sealer.seal(d).to_json() for d in drafts]
    secure_seal = best_rate(n, args.rounds, lambda: [sealer.seal(d) for d in drafts])

    def open_all() -> None:
        recipient = opener()
        for wire in wires:
            recipient.open(wire)

    secure_open = best_rate(n, args.rounds, open_all)
    secure_both = 1 / (1 / secure_seal + 1 / secure_open)

    # Baseline: the same keys, the same bytes, joserfc only.
    signing_key = container.keystore.load(SCHOOL, snapshot.current_key(SCHOOL, KeyUse.SIG, now).kid)
    verify_key = snapshot.public_key(str(signing_key.kid)).jwk
    enc_kid = snapshot.current_key(LA, KeyUse.ENC, now).kid
    enc_public, enc_private = snapshot.public_key(enc_kid).jwk, la_keys[enc_kid]
    jws_reg = JWSRegistry(algorithms=["Ed25519"])
    jwe_reg = JWERegistry(algorithms=["ECDH-ES", "A256GCM"])
    claims = sealer.seal(drafts[0]).claims
    binding = claims.model_dump(mode="json", include=set(BINDING_CLAIMS))
    body = json.dumps({**binding, "payload": payload.model_dump(mode="json")}).encode()
    outer_body = claims.model_dump_json().encode()
    header = {"alg": "Ed25519", "kid": signing_key.kid}

    def raw_seal() -> tuple[str, str]:
        inner = jws.serialize_compact(header, body, signing_key, registry=jws_reg)
        sealed = jwe.encrypt_compact(
            {"alg": "ECDH-ES", "enc": "A256GCM"}, inner, enc_public, registry=jwe_reg
        )
        return jws.serialize_compact(header, outer_body, signing_key, registry=jws_reg), sealed

    raw = [raw_seal() for _ in range(n)]

    def raw_open() -> None:
        for outer, sealed in raw:
            jws.deserialize_compact(outer, verify_key, registry=jws_reg)
            inner = jwe.decrypt_compact(sealed, enc_private, registry=jwe_reg).plaintext
            jws.deserialize_compact(inner or b"", verify_key, registry=jws_reg)

    base_seal = best_rate(n, args.rounds, lambda: [raw_seal() for _ in range(n)])
    base_open = best_rate(n, args.rounds, raw_open)
    base_both = 1 / (1 / base_seal + 1 / base_open)

    figures = {
        "messages": n,
        "rounds": args.rounds,
        "envelope_bytes": len(wires[0]),
        "secure_seal_per_s": round(secure_seal),
        "secure_open_per_s": round(secure_open),
        "secure_seal_open_per_s": round(secure_both),
        "baseline_seal_per_s": round(base_seal),
        "baseline_open_per_s": round(base_open),
        "baseline_seal_open_per_s": round(base_both),
        "ratio_seal": round(secure_seal / base_seal, 3),
        "ratio_open": round(secure_open / base_open, 3),
        "ratio_seal_open": round(secure_both / base_both, 3),
        "target_ratio": TARGET,
        "target_met": secure_both / base_both >= TARGET,
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"envelope: {figures['envelope_bytes']} bytes, {n} messages, best of {args.rounds}")
    print(f"{'':14}{'secure/s':>10}{'baseline/s':>12}{'ratio':>8}")
    for label, key in (("seal", "seal"), ("open", "open"), ("seal+open", "seal_open")):
        print(
            f"{label:14}{figures[f'secure_{key}_per_s']:>10}"
            f"{figures[f'baseline_{key}_per_s']:>12}{figures[f'ratio_{key}']:>8.2f}"
        )
    verdict = "met" if figures["target_met"] else "NOT met"
    print(f"target seal+open >= {TARGET:.0%} of baseline: {verdict}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
