"""Every output of a summary stays within its limit, validated by slack_sdk."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from changebot.adapters.slack import check_blocks
from changebot.deploy import outputs
from changebot.deploy.gate import GatePolicy, decide
from changebot.deploy.summary import PullLine, PushLine, Side, Summary


def pull(number: int, **fields) -> PullLine:
    values = dict(
        number=number,
        title=f"Scale the <!channel> cluster & friends #{number}",
        url=f"https://github.example/acme/infra/pull/{number}",
        author="<@U0123>",
        approvers=("bob", "carol"),
        areas=("terraform", "kubernetes"),
        risk="Medium: the autoscaler may thrash for a few minutes.",
        excerpt="Black Friday needs more nodes; " * 8,
        merge_sha=f"{number:040x}",
    )
    values.update(fields)
    return PullLine(**values)


def summary(pulls: int, unrecorded: int = 0, **fields) -> Summary:
    values = dict(
        repo="acme/infra",
        environment="production",
        classification="deploy",
        sha="b" * 40,
        previous_sha="a" * 40,
        deployer="ana",
        reason="weekly release",
        compare_url="https://github.example/acme/infra/compare/a...b",
        added=Side(
            pulls=tuple(pull(n, bypassed=n % 7 == 0) for n in range(1, pulls + 1)),
            pushes=(PushLine(1, "refs/heads/main", "mallory", ("c" * 40,), (), True),),
            unrecorded=tuple(f"{n:040x}" for n in range(unrecorded)),
        ),
    )
    values.update(fields)
    return Summary(**values)


def block_texts(blocks):
    return [b["text"]["text"] for b in blocks]


def test_small_summary_lists_every_pr_in_valid_blocks():
    text, blocks = outputs.slack_message(summary(3, unrecorded=2))

    check_blocks(blocks)
    parsed = [Block.parse(b) for b in blocks]
    assert isinstance(parsed[0], HeaderBlock)
    assert all(isinstance(b, SectionBlock) for b in parsed[1:])
    body = "\n".join(block_texts(blocks))
    for number in (1, 2, 3):
        assert f"|#{number}>" in body
    assert not any(t.startswith("…and") for t in block_texts(blocks))
    assert "No audit entry" in body
    assert "Deploy" in text and "production" in text


def test_each_pr_names_all_its_approvers_and_areas_everywhere():
    found = summary(2)

    _, blocks = outputs.slack_message(found)
    slack = "\n".join(block_texts(blocks))
    job = outputs.job_summary(found)

    assert slack.count("approved by bob, carol · areas: terraform, kubernetes") == 2
    assert job.count("approved by bob, carol · areas: terraform, kubernetes") == 2


def test_user_text_is_escaped_for_mrkdwn():
    _, blocks = outputs.slack_message(summary(1))

    body = "\n".join(block_texts(blocks))
    assert "<!channel>" not in body and "<@U0123>" not in body
    assert "&lt;!channel&gt;" in body
    assert "&amp; friends" in body


def test_two_thousand_prs_stay_within_every_limit():
    big = summary(2_000, unrecorded=9_000, reason="x" * 5_000)

    text, blocks = outputs.slack_message(big)
    check_blocks(blocks)
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(t) <= 3_000 for t in block_texts(blocks))
    assert len(text) <= 3_000
    last = block_texts(blocks)[-1]
    assert "more" in last and big.compare_url in last

    shown = sum(t.count("➕ <https://") for t in block_texts(blocks))
    omitted = int(last.split("and ")[1].split(" more")[0])
    assert shown + omitted == 2_000 + 1  # the PRs and the direct push

    markdown = outputs.job_summary(big)
    assert len(markdown.encode()) <= 1024 * 1024
    assert markdown.rstrip().endswith(f"({big.compare_url})")

    assert len(outputs.status_description(big)) <= 140
    comments = outputs.pull_comments(big)
    assert len(comments) == 2_000
    assert all(len(c.body) <= 65_536 for c in comments)


def test_job_summary_keeps_whole_items_and_counts_the_rest():
    big = summary(2_000, unrecorded=30_000)

    markdown = outputs.job_summary(big)

    lines = markdown.splitlines()
    pulls = [line for line in lines if line.startswith("- [#")]
    pushes = [line for line in lines if line.startswith("- direct push")]
    unrecorded = [line for line in lines if "no audit entry: `" in line]
    assert all(len(line.split("`")[1]) == 40 for line in unrecorded)
    omitted = int(markdown.split("…and ")[1].split(" more")[0])
    assert len(pulls) + len(pushes) + len(unrecorded) + omitted == 32_001
    assert len(markdown.encode()) <= 1024 * 1024


def test_pull_comment_says_where_and_who_and_carries_the_marker():
    comments = outputs.pull_comments(summary(2))

    first = comments[0]
    assert first.number == 1
    assert first.marker == "<!-- changebot:deployment:production -->"
    assert first.body.startswith(first.marker)
    assert "Deployed to production" in first.body
    assert "`bbbbbbbbbbbb`" in first.body and "ana" in first.body


def test_rollback_comments_say_the_change_was_removed():
    rollback = summary(0, classification="rollback", removed=Side(pulls=(pull(9),)))

    [comment] = outputs.pull_comments(rollback)

    assert comment.number == 9
    assert "Removed from production" in comment.body


def test_status_description_counts_what_matters():
    text = outputs.status_description(summary(3, unrecorded=2))

    assert text == "deploy bbbbbbb: 3 PRs, 2 unrecorded"


def test_gate_refuses_unrecorded_and_bypassed_in_a_protected_environment():
    risky = summary(7, unrecorded=1)
    policy = GatePolicy(protected=True)

    decision = decide(risky, policy)
    reason = outputs.gate_reason(risky, decision, policy)

    assert not decision.approved
    assert [p.number for p in decision.bypassed] == [7]
    assert "refuses" in reason and "#7" in reason and "no audit entry" in reason


def test_gate_approves_a_clean_range_and_unprotected_environments():
    clean = summary(3)
    assert decide(clean, GatePolicy(protected=True)).approved

    risky = summary(7, unrecorded=3)
    assert decide(risky, GatePolicy(protected=False)).approved


def test_gate_ignores_what_a_rollback_removes():
    rollback = summary(
        0,
        classification="rollback",
        added=Side(),
        removed=Side(pulls=(pull(7, bypassed=True),), unrecorded=("d" * 40,)),
    )

    assert decide(rollback, GatePolicy(protected=True)).approved


def test_pack_cuts_whole_items_and_counts_the_rest():
    items = [f"item {n:02d}" for n in range(10)]

    packed, omitted = outputs.pack(items, limit=20, chunks=2)

    assert packed == ["item 00\nitem 01", "item 02\nitem 03"]
    assert omitted == 6


def test_a_title_holding_the_item_separator_splits_no_item():
    found = summary(40)
    hostile = replace(found.added.pulls[0], title=f"split{outputs.SEP}me")
    found = replace(
        found, added=replace(found.added, pulls=(hostile, *found.added.pulls[1:]))
    )

    _, blocks = outputs.slack_message(found)
    slack = "\n".join(block_texts(blocks))
    job = outputs.job_summary(found)

    for number in range(1, 41):
        assert slack.count(f"|#{number}>") == 1
        assert job.count(f"[#{number}](") == 1
    assert slack.count("➕ direct push") == job.count("- direct push") == 1
    assert not any(t.startswith("…and") for t in block_texts(blocks))
    assert f"split{outputs.SEP}me" in job
    assert f"split{outputs.SEP}me" in slack
