"""What the audit browser needs to know: where the index is, how to sign in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from changebot.index.feed import INDEX_FILE
from changebot.settings import Settings

GITHUB_WEB = "https://github.com"


@dataclass(frozen=True)
class BrowserConfig:
    """Settings of the audit browser; secrets are hidden from repr."""

    index_path: Path
    sessions_path: Path
    client_id: str
    client_secret: str
    github_web: str = GITHUB_WEB
    github_api: str = "https://api.github.com"
    #: Send cookies with `Secure` (off only for plain-HTTP test servers).
    secure_cookies: bool = True
    #: Seconds a reader's list of readable repositories is trusted.
    access_ttl: float = 60.0
    #: Seconds a sign-in lasts.
    session_ttl: float = 8 * 3600.0

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> BrowserConfig | None:
        """Read the browser's settings; None when no OAuth client is set."""
        env = os.environ if environ is None else environ
        client_id = env.get("CHANGEBOT_OAUTH_CLIENT_ID", "").strip()
        client_secret = env.get("CHANGEBOT_OAUTH_CLIENT_SECRET", "").strip()
        if not client_id or not client_secret:
            return None
        web = env.get("CHANGEBOT_GITHUB_WEB_URL", "").strip() or GITHUB_WEB
        return cls(
            index_path=settings.data_dir / INDEX_FILE,
            sessions_path=settings.data_dir / "browser-sessions.sqlite3",
            client_id=client_id,
            client_secret=client_secret,
            github_web=web.rstrip("/"),
            github_api=settings.github_url,
        )

    def __repr__(self) -> str:
        return (
            f"BrowserConfig(index_path={self.index_path!r}, "
            f"client_id={self.client_id!r}, client_secret=<hidden>, "
            f"github_web={self.github_web!r}, github_api={self.github_api!r})"
        )
