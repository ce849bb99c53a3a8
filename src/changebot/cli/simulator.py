"""`changebot simulator`: run the GitHub simulator standalone until Ctrl-C."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from changebot.cli import main

log = logging.getLogger(__name__)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, help="Port to serve on.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".ghsim"),
    show_default=True,
    help="Directory for the bare repositories and the App's credentials.",
)
@click.option("--webhook-url", default=None, help="Where to send webhooks.")
@click.option(
    "--webhook-secret",
    default=None,
    envvar="CHANGEBOT_WEBHOOK_SECRET",
    help="Secret to sign webhooks with (default: the one in DATA/app.json).",
)
@click.option(
    "--token-ttl", default=3600, show_default=True, help="Token lifetime in seconds."
)
def simulator(
    host: str,
    port: int,
    data_dir: Path,
    webhook_url: str | None,
    webhook_secret: str | None,
    token_ttl: int,
) -> None:
    """Serve a simulated GitHub (REST API and webhooks) for tests and demos."""
    from ghsim import Simulator

    sim = Simulator(
        data_dir,
        host=host,
        port=port,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        token_ttl=token_ttl,
        synchronous_webhooks=False,
        persistent=True,
    )
    # NOTE: one machine-readable line (the API root), so scripts can read it.
    click.echo(sim.base_url)
    log.info("simulator serving", extra={"url": sim.base_url, "data": str(data_dir)})
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        log.info("simulator stopped")
    finally:
        sim.stop()
