"""Agency-side endpoints (schools, health, housing, other LAs). They depend on `broker`, never the reverse."""
