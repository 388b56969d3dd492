"""Agency-side endpoints (schools, health, housing, other LAs).

They depend on `broker` and `schemas`, never the reverse, and never on each other.
"""
