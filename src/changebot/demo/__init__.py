"""`changebot demo`: the whole of changebot, on loopback, in under a minute.

A GitHub simulator, a Slack stand-in and the real App server (gunicorn and
a worker) run on free loopback ports; a seeded organization then lives
through a story told with real webhooks and real API calls, and each step
is checked against what GitHub and the audit branch really show.
"""

from changebot.demo.story import play

__all__ = ["play"]
