"""The pure policy core: areas, reviewers, rationale and the verdict."""
