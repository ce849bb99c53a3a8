"""Pull request reviews: submit on the current head, list, dismiss.

See: https://docs.github.com/rest/pulls/reviews
"""

from __future__ import annotations

from typing import Any

from ghsim import shapes
from ghsim.hub import Hub
from ghsim.pulls import find_pull, pull_shape
from ghsim.routing import ApiError, Call, Reply, not_found, paginate, route
from ghsim.state import Pull, Repo, Review, now, stamp

EVENTS = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


def review_shape(hub: Hub, repo: Repo, pull: Pull, review: Review) -> dict[str, Any]:
    """Return a pull-request-review."""
    api = f"{hub.base_url}/repos/{repo.full_name}/pulls/{pull.number}"
    web = f"{hub.base_url}/{repo.full_name}/pull/{pull.number}"
    return {
        "id": review.id,
        "node_id": shapes.node_id("PullRequestReview", review.id),
        "user": hub.user_shape(review.user),
        "body": review.body,
        "state": review.state,
        "html_url": f"{web}#pullrequestreview-{review.id}",
        "pull_request_url": api,
        "_links": {
            "html": {"href": f"{web}#pullrequestreview-{review.id}"},
            "pull_request": {"href": api},
        },
        "submitted_at": stamp(review.submitted_at),
        "commit_id": review.commit_id,
        "author_association": "MEMBER"
        if review.user.lower() in hub.world.account(repo.owner).members
        else "NONE",
    }


def _review_event(
    hub: Hub, repo: Repo, pull: Pull, review: Review, action: str, sender: str
) -> None:
    shaped = review_shape(hub, repo, pull, review)
    shaped["state"] = shaped["state"].lower()
    hub.event(
        "pull_request_review",
        {
            "action": action,
            "review": shaped,
            "pull_request": pull_shape(hub, repo, pull, full=False),
        },
        repo=repo,
        sender=sender,
    )


@route("POST", "/repos/<owner>/<name>/pulls/<int:number>/reviews")
def submit_review(call: Call, owner: str, name: str, number: int) -> dict[str, Any]:
    """Submit a review on the PR's head (or on `commit_id`, when given)."""
    repo = call.hub.repo(call, owner, name)
    pull = find_pull(repo, number)
    event = call.field("event")
    if event not in EVENTS:
        raise ApiError(422, "Unprocessable Entity", ["Review event is required"])
    if event != "COMMENT" and call.login.lower() == pull.user.lower():
        verb = "approve" if event == "APPROVE" else "request changes on"
        raise ApiError(
            422, "Unprocessable Entity", [f"Can not {verb} your own pull request"]
        )
    if event == "REQUEST_CHANGES" and not call.field("body"):
        raise ApiError(
            422, "Unprocessable Entity", ["Body is required when requesting changes"]
        )
    review = Review(
        call.hub.world.new_id(),
        call.login,
        EVENTS[event],
        call.field("body") or "",
        call.field("commit_id") or pull.head_sha,
        now(),
    )
    pull.reviews.append(review)
    _review_event(call.hub, repo, pull, review, "submitted", call.login)
    return review_shape(call.hub, repo, pull, review)


@route("GET", "/repos/<owner>/<name>/pulls/<int:number>/reviews")
def list_reviews(call: Call, owner: str, name: str, number: int) -> Reply:
    """List a PR's reviews, oldest first."""
    repo = call.hub.repo(call, owner, name)
    pull = find_pull(repo, number)
    return paginate(call, [review_shape(call.hub, repo, pull, r) for r in pull.reviews])


@route("GET", "/repos/<owner>/<name>/pulls/<int:number>/reviews/<int:review_id>")
def get_review(
    call: Call, owner: str, name: str, number: int, review_id: int
) -> dict[str, Any]:
    """Return one review."""
    repo = call.hub.repo(call, owner, name)
    pull = find_pull(repo, number)
    return review_shape(call.hub, repo, pull, _find(pull, review_id))


@route(
    "PUT", "/repos/<owner>/<name>/pulls/<int:number>/reviews/<int:review_id>/dismissals"
)
def dismiss_review(
    call: Call, owner: str, name: str, number: int, review_id: int
) -> dict[str, Any]:
    """Dismiss an approval or a change request."""
    repo = call.hub.repo(call, owner, name, need="write")
    pull = find_pull(repo, number)
    review = _find(pull, review_id)
    call.need("message")
    if review.state not in ("APPROVED", "CHANGES_REQUESTED"):
        raise ApiError(422, "Can not dismiss a commented pull request review")
    review.state = "DISMISSED"
    _review_event(call.hub, repo, pull, review, "dismissed", call.login)
    return review_shape(call.hub, repo, pull, review)


def _find(pull: Pull, review_id: int) -> Review:
    review = next((r for r in pull.reviews if r.id == review_id), None)
    if review is None:
        raise not_found()
    return review
