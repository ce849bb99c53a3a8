"""A stateful simulator of the part of GitHub's REST API that changebot uses.

It imports nothing from changebot: it plays GitHub, backed by real bare git
repositories, and sends the webhooks GitHub would send, signed.

The Python API (see `Simulator`):

- ``Simulator(root, webhook_url=None, webhook_secret=None, token_ttl=3600,
  synchronous_webhooks=True)``; ``.start()`` / ``.stop()`` or ``with``;
  ``.base_url``; ``.app`` (``id``, ``slug``, ``webhook_secret``,
  ``client_id``, ``client_secret``, ``private_key``), also written to
  ``root/app.json`` and ``root/app-private-key.pem`` (mode 0600).
- ``.client(login)``: a requests session acting as ``login``
  (``Authorization: token sim-<login>``); paths are relative to the root.
- ``.installation_id(account)``, ``.installation_token(account)``.
- Steering: ``.fail(glob, kind, times, method, retry_after, delay)`` with
  kind one of 500, 502, 503, timeout, secondary, 429, primary;
  ``.set_token_ttl(seconds)``; ``.drop_webhooks(True|False)``;
  ``.set_webhook_sink(fn(headers, body) -> status)``.
- Acting: ``.request_gate(full_name, environment, ref, login)`` plays a
  deploy job waiting on the App's custom deployment protection rule: it
  creates the deployment, sends ``deployment_protection_rule`` and returns
  the gate, whose ``reviews`` collect the App's answers.
- Inspecting: ``.repo(full_name)``, ``.pull(full_name, n)``,
  ``.check_runs(full_name, name)``, ``.comments(full_name, n)``,
  ``.deliveries(event)``, ``.exchanges()`` (every request and answer, for
  schema checks), ``.git_dir(full_name)``.

Over HTTP, the same steering lives under ``/_sim/``: ``POST /_sim/faults``,
``DELETE /_sim/faults``, ``PATCH /_sim/settings`` (``token_ttl``,
``drop_webhooks``, ``webhook_url``), ``GET /_sim/deliveries``,
``GET /_sim/app``. A GitHub Enterprise style ``/api/v3`` prefix is accepted.
"""

from ghsim.simulator import Simulator

__all__ = ["Simulator"]
