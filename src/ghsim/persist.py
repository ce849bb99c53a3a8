"""Keep what GitHub remembers beside git across restarts of a standalone simulator.

Git objects and refs already live in the bare repositories under the data
directory; this saves the rest (accounts, pulls, reviews, comments, check
runs, deployments, teams, installations) to ``DIR/state.pickle`` when the
simulator stops, and reads it back when one starts on the same directory.
Tokens and webhook deliveries are not kept: clients ask for new tokens.
"""

from __future__ import annotations

import itertools
import logging
import pickle
from pathlib import Path
from typing import Any

from ghsim.hub import Hub

log = logging.getLogger(__name__)

STATE_FILE = "state.pickle"


def save(hub: Hub) -> None:
    """Write the state that git does not hold."""
    world = hub.world
    with world.lock:
        next_id = world.new_id()
        state: dict[str, Any] = {
            "accounts": world.accounts,
            "repos": world.repos,
            "teams": world.teams,
            "next_id": next_id,
            "installations": hub.app.installations,
        }
        world._ids = itertools.count(next_id + 1)
        blob = pickle.dumps(state)
    (hub.root / STATE_FILE).write_bytes(blob)
    log.info("simulator state saved", extra={"repos": len(world.repos)})


def load(hub: Hub) -> bool:
    """Read a saved state into a fresh hub; say whether there was one."""
    path: Path = hub.root / STATE_FILE
    if not path.exists():
        return False
    # NOTE: the file is this simulator's own, written by `save` above.
    state = pickle.loads(path.read_bytes())  # noqa: S301 -- our own file
    world = hub.world
    world.accounts.update(state["accounts"])
    world.repos.update(state["repos"])
    world.teams.update(state["teams"])
    world._ids = itertools.count(int(state["next_id"]))
    hub.app.installations.update(state["installations"])
    log.info("simulator state loaded", extra={"repos": len(world.repos)})
    return True
