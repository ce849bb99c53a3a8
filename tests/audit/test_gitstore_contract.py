"""GitStore passes the AuditStore contract (tests/contract/store_contract.py)."""

from contract.store_contract import *  # noqa: F403
