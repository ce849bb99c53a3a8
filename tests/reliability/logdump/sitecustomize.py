"""Dump every log record of every Python process started with this on its path.

The secrets test puts this directory on PYTHONPATH and names a file in
RELIABILITY_LOG_DUMP: each process (the App server, its gunicorn workers,
its job worker) then writes every record, DEBUG included, with its message
and every field given in ``extra``, as one JSON line. The handlers the
process sets up itself keep the level it asked for.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

_PATH = os.environ.get("RELIABILITY_LOG_DUMP")


class _Dump(logging.Handler):
    """Append each record's whole dictionary as one JSON line."""

    def __init__(self, path: str) -> None:
        super().__init__(logging.DEBUG)
        self._path = path

    def emit(self, record: logging.LogRecord) -> None:
        fields = {k: repr(v) for k, v in vars(record).items()}
        fields["message"] = record.getMessage()
        if record.exc_info:
            fields["traceback"] = logging.Formatter().formatException(record.exc_info)
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(fields) + "\n")


def _install(path: str) -> None:
    handler = _Dump(path)
    root = logging.getLogger()
    basic = logging.basicConfig

    def basic_config(**kwargs: Any) -> None:
        # NOTE: the process's own handlers get the level it asked for; the
        # root logger lets everything through to the dump.
        level = kwargs.pop("level", None)
        root.removeHandler(handler)
        basic(**kwargs)
        for own in root.handlers:
            if level is not None:
                own.setLevel(level)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)

    logging.basicConfig = basic_config  # type: ignore[assignment]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


if _PATH:
    _install(_PATH)
