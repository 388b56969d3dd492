"""What the gateway keeps of a delivery from the router (no I/O)."""

import json
from uuid import uuid4

from broker.envelope.jose import b64url
from broker.gateway.relay import _delivery
from broker.transport.headers import SENDER_HEADER


def _body(jti: str, cme_type: str = "cme.locate_enquiry") -> bytes:
    claims = b64url(json.dumps({"jti": jti, "cme_type": cme_type}).encode())
    return json.dumps({"cme": 1, "header": f"e30.{claims}.c2ln", "jwe": "a.b.c.d.e"}).encode()


def test_a_jti_in_any_uuid_form_matches_the_routers_canonical_message_id() -> None:
    jti = uuid4()
    delivery = _delivery(_body(str(jti).upper()), str(jti), {SENDER_HEADER: "la:330"})
    assert delivery is not None
    assert (delivery.message_id, delivery.sender) == (str(jti), "la:330")
    assert delivery.message_type == "cme.locate_enquiry"


def test_deliveries_the_router_did_not_make_are_not_kept() -> None:
    jti = str(uuid4())
    assert _delivery(_body(jti), jti, {}) is None  # no sender stamp
    assert _delivery(_body(jti), str(uuid4()), {SENDER_HEADER: "la:330"}) is None
    assert _delivery(b"not json", jti, {SENDER_HEADER: "la:330"}) is None
    assert _delivery(_body("not-a-uuid"), None, {SENDER_HEADER: "la:330"}) is None
