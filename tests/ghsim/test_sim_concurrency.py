"""Concurrent clients: readers of shared state never see a 500 from writers."""

from __future__ import annotations

import threading

from seeding import SeededRepo

BRANCHES = 16


def test_commit_pulls_lookup_survives_pulls_opened_meanwhile(
    seeded_repo: SeededRepo,
) -> None:
    main = seeded_repo.head()
    for n in range(BRANCHES):
        seeded_repo.commit(f"b{n}", {f"infra/b{n}.tf": "# b\n"}, force_parent=main)
    writing = threading.Event()
    statuses: list[int] = []

    def writer(numbers: range) -> None:
        for n in numbers:
            seeded_repo.call(
                "dev",
                "POST",
                "pulls",
                json={"title": f"b{n}", "head": f"b{n}", "base": "main"},
            )

    def reader() -> None:
        client = seeded_repo.client()
        while writing.is_set():
            answer = client.get(seeded_repo.api(f"commits/{main}/pulls"))
            statuses.append(answer.status_code)

    writing.set()
    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [
        threading.Thread(target=writer, args=(range(i, BRANCHES, 2),)) for i in range(2)
    ]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    for thread in readers:
        thread.join()

    assert statuses and set(statuses) == {200}
    listed = seeded_repo.call(None, "GET", f"commits/{main}/pulls?per_page=100")
    assert len(listed) == BRANCHES
