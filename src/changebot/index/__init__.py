"""The audit index: a SQLite database derived from audit branches.

`Indexer` writes it (build, incremental update, rebuild); `Search` reads it
for the audit browser. The branch stays the source of truth: the index can
be deleted and rebuilt at any time (`changebot audit reindex`).
"""

from changebot.index.build import Finding, Indexer, Verification
from changebot.index.search import Filter, LogState, Page, Proof, Record, Search

__all__ = [
    "Filter",
    "Finding",
    "Indexer",
    "LogState",
    "Page",
    "Proof",
    "Record",
    "Search",
    "Verification",
]
