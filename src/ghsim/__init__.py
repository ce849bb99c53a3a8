"""A stateful simulator of the part of GitHub's REST API that changebot uses.

It imports nothing from changebot: it plays GitHub, backed by real git
repositories, and sends the webhooks GitHub would send, signed.
"""

from ghsim.simulator import Simulator

__all__ = ["Simulator"]
