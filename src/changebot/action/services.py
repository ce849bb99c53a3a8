"""The adapters of one Action step, built from its inputs.

The App's composition root (`changebot.compose`) builds the same adapters
around a queue and the App's credentials; a step has no queue and usually
holds the workflow token instead. Credentials and the signing key are read
on first use, so that a step that only evaluates never needs the key.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from changebot.action.inputs import DEFAULT_AUDIT_BRANCH, Inputs, missing_input
from changebot.adapters.github import GitHubForge
from changebot.adapters.githubauth import AppAuth, InstallationToken, TokenCache
from changebot.adapters.githubstore import GitDataStore
from changebot.adapters.slack import notifier_for
from changebot.audit import AuditLog, PublicKey, SigningKey
from changebot.errors import ConfigError, KeyFileError, SettingsError
from changebot.flows.context import Context
from changebot.policy.config import CONFIG_PATH, Config, load_config
from changebot.ports import AuditStore, Notice, Notifier

log = logging.getLogger(__name__)

#: The variable that holds the `slack_token` input (its name, not a secret).
SLACK_TOKEN_ENV = "CHANGEBOT_SLACK_TOKEN"  # noqa: S105 -- a variable name


@dataclass(frozen=True)
class StepContext(Context):
    """The flows' context, reading the policy from the step's `config` path."""

    config_path: str = CONFIG_PATH
    #: Policy files found invalid while recording leniently, to annotate.
    invalid: list[ConfigError] = field(default_factory=list)

    def policy(self, repo: str, ref: str) -> Config:
        """Return the policy at ``ref`` (read through the API, never the workspace)."""
        text = self.forge.file_at(repo, ref, self.config_path)
        return load_config(text, source=f"{self.config_path}@{ref}")

    def lenient_policy(self, repo: str, ref: str) -> Config:
        """Return the policy at ``ref``, or the default one, noting the problems."""
        try:
            return self.policy(repo, ref)
        except ConfigError as err:
            log.warning("policy invalid, recording with defaults", extra={"ref": ref})
            self.invalid.append(err)
            return load_config(None)


class MaskedTokens(TokenCache):
    """Installation tokens, each masked in the run's log as soon as it is issued."""

    def __init__(self, mask: Callable[[str], None]) -> None:
        super().__init__(time.time)
        self._mask = mask

    def keep(self, installation_id: int, token: InstallationToken) -> None:
        """Mask the token, then remember it."""
        self._mask(token.token)
        super().keep(installation_id, token)


class StepNotifier:
    """Slack (or the log) as the repository's policy routes it, built on first use."""

    def __init__(self, build: Callable[[], Notifier]) -> None:
        self._build = build

    @cached_property
    def _notifier(self) -> Notifier:
        return self._build()

    def send(self, notice: Notice) -> None:
        """Deliver ``notice``."""
        self._notifier.send(notice)


class Step:
    """The ports of one step: GitHub, the audit branch, Slack."""

    def __init__(
        self,
        inputs: Inputs,
        env: Mapping[str, str],
        mask: Callable[[str], None],
    ) -> None:
        self.inputs = inputs
        self.env = env
        self.mask = mask
        #: Every audit log the flows opened, in order.
        self.logs: list[AuditLog] = []

    @cached_property
    def forge(self) -> GitHubForge:
        """Return GitHub as the App (when its credentials are given) or the token."""
        inputs = self.inputs
        if inputs.uses_app:
            return self._app_forge()
        if not inputs.token:
            raise missing_input("token", "changebot needs a token to call GitHub")
        return GitHubForge.for_token(inputs.token, base_url=inputs.api_url)

    def _app_forge(self) -> GitHubForge:
        inputs = self.inputs
        if not inputs.app_id:
            raise missing_input("app_id", "`app_private_key` is set, and needs it")
        if not inputs.private_key:
            raise missing_input("app_private_key", "`app_id` is set, and needs it")
        forge = GitHubForge.for_app(
            app_id=inputs.app_id,
            private_key=inputs.private_key,
            base_url=inputs.api_url,
        )
        if isinstance(forge.auth, AppAuth):
            forge.auth.tokens = MaskedTokens(self.mask)
        return forge

    @cached_property
    def signer(self) -> SigningKey:
        """Return the key that signs audit entries; SettingsError if none was given."""
        pem = self.inputs.signing_key
        if not pem:
            raise missing_input(
                "signing_key", "this step appends to the audit log, which is signed"
            )
        trusted = [_vkey(text) for text in self.inputs.trusted_keys]
        return _load_signing_key(pem, trusted)

    def trusted_keys(self) -> list[PublicKey]:
        """Return the keys a verification trusts: `trusted_keys`, and the signer's."""
        keys = [_vkey(text) for text in self.inputs.trusted_keys]
        if self.inputs.signing_key:
            keys.append(self.signer.public)
        if not keys:
            raise missing_input(
                "trusted_keys",
                "a verification starts from keys trusted out of band "
                "(or give `signing_key`)",
            )
        return keys

    @cached_property
    def context(self) -> StepContext:
        """Return what the flows work through."""
        return StepContext(
            forge=self.forge,
            notifier=StepNotifier(self._notifier),
            open_store=self._open_store,
            open_log=self._open_log,
            config_path=self.inputs.config_path,
        )

    def _open_store(self, repo: str, branch: str, repository: str | None) -> AuditStore:
        # NOTE: a branch named in the step wins over the policy's; the default
        # input leaves the choice to `.changebot.yml`.
        if self.inputs.audit_branch != DEFAULT_AUDIT_BRANCH:
            branch = self.inputs.audit_branch
        return GitDataStore(self.forge, repository or repo, branch)

    def _open_log(self, store: AuditStore) -> AuditLog:
        audit = AuditLog(store, self.signer)
        self.logs.append(audit)
        return audit

    def _notifier(self) -> Notifier:
        repo = self.inputs.repository
        config = self.context.lenient_policy(repo, self.forge.default_branch(repo))
        return notifier_for(
            self._with_slack_inputs(config),
            self.env,
            webhook_url=self.inputs.slack_webhook,
        )

    def _with_slack_inputs(self, config: Config) -> Config:
        """Fill in the Slack settings the policy leaves unset from the step's inputs."""
        notify = config.notify
        if self.inputs.slack_token and notify.slack_token_env is None:
            notify = dataclasses.replace(notify, slack_token_env=SLACK_TOKEN_ENV)
        if self.inputs.slack_channel and notify.slack_channel is None:
            notify = dataclasses.replace(
                notify, slack_channel=self.inputs.slack_channel
            )
        return dataclasses.replace(config, notify=notify)


def _load_signing_key(pem: str, trusted: list[PublicKey]) -> SigningKey:
    """Load a PEM signing key given as text (the key API reads files).

    The note name its checkpoints are signed under comes from the trusted
    verifier key of the same key, when one is given (else the default name).
    """
    with tempfile.TemporaryDirectory(prefix="changebot-") as private:
        path = Path(private) / "signing.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(pem if pem.endswith("\n") else pem + "\n")
        try:
            key = SigningKey.load(path)
            named = [k.name for k in trusted if k.raw == key.public.raw and k.name]
            return SigningKey.load(path, named[0]) if named else key
        except KeyFileError as err:
            raise SettingsError(
                "the `signing_key` input is not an Ed25519 private key (PKCS#8 PEM)",
                hint="store the `.key` file of `changebot keys generate` as the secret",
            ) from err


def _vkey(text: str) -> PublicKey:
    try:
        return PublicKey.from_vkey(text)
    except (KeyFileError, ValueError) as err:
        raise SettingsError(
            f"the `trusted_keys` input holds {text[:40]!r}, not a verifier key",
            hint="give the `.vkey` line of `changebot keys generate`, one per line",
        ) from err
