"""Valid synthetic payloads and justifications for every registered message type.

For demos, documentation, benchmarks and tests. All personal data in them is made up by
`schemas.examples.synthetic`; the default parties are in LA 330 (Birmingham).
"""

from schemas.examples.justifications import example_justification
from schemas.examples.payloads import (
    HEALTH,
    HOUSING,
    LA,
    NEIGHBOUR_LA,
    NEW_SCHOOL,
    SCHOOL,
    SOCIAL_CARE,
    example_payload,
    example_sender_recipient,
)

__all__ = [
    "HEALTH",
    "HOUSING",
    "LA",
    "NEIGHBOUR_LA",
    "NEW_SCHOOL",
    "SCHOOL",
    "SOCIAL_CARE",
    "example_justification",
    "example_payload",
    "example_sender_recipient",
]
