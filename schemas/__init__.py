"""Wire contracts for the CME broker: one frozen pydantic model per message type and version.

This package depends on nothing else in the project (`schemas` <- `broker` <- `adapters`).
"""
