"""The pure policy core: areas, reviewers, rationale and the verdict."""

from changebot.policy.config import DEFAULT_CONFIG, Config, load_config, validate_config
from changebot.policy.evaluate import classify, evaluate
from changebot.policy.facts import ChangedFile, Commit, PullFacts, Review
from changebot.policy.verdict import Approval, RuleResult, Verdict

__all__ = [
    "DEFAULT_CONFIG",
    "Approval",
    "ChangedFile",
    "Commit",
    "Config",
    "PullFacts",
    "Review",
    "RuleResult",
    "Verdict",
    "classify",
    "evaluate",
    "load_config",
    "validate_config",
]
