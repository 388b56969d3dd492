"""What every part of a school's adapter works with, grouped so constructors stay small."""

from dataclasses import dataclass

from adapters.school.outbound import SchoolSender
from adapters.school.protect import Protector
from adapters.school.rules import SchoolPolicy
from broker.clock import Clock


@dataclass(frozen=True, slots=True)
class SchoolServices:
    """The school's rules' policy, its sender, its protector (digests, sealed values) and
    its clock."""

    policy: SchoolPolicy
    sender: SchoolSender
    protector: Protector
    clock: Clock

    @property
    def school_id(self) -> str:
        """`school:LAESTAB`."""
        return self.policy.school_id
