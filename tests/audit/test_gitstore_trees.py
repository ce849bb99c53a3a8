"""The audit store reads git's tree objects as git lists them."""

from __future__ import annotations

import subprocess

from changebot.adapters.git import GitStore, tree_entries_from_data


def test_a_tree_lists_odd_names_as_git_does(store: GitStore) -> None:
    names = ["a b.json", "caf\u00e9", "new\nline", "0", "sub/inner", "sub dir/x"]
    head = store.write(None, {name: name.encode() for name in names}, "odd names")

    listed = store.list(head, "")

    git = subprocess.run(
        ["git", "-C", str(store.path), "ls-tree", "-z", "--name-only", head],
        capture_output=True,
        check=True,
    )
    assert listed == git.stdout.decode().rstrip("\0").split("\0")


def test_a_malformed_tree_is_read_by_the_careful_loop() -> None:
    row = b"100644 name\0" + bytes(20)

    assert tree_entries_from_data(row) == [(bytes(20), 0o100644, "name")]
    assert tree_entries_from_data(row + b"100644 cut\0" + bytes(5)) == [
        (bytes(20), 0o100644, "name"),
        (bytes(5), 0o100644, "cut"),
    ]


def test_walks_one_after_another_and_side_by_side_read_their_own_files(
    store: GitStore,
) -> None:
    files = {f"d{d}/{i}.json": b"%d/%d" % (d, i) for d in range(3) for i in range(120)}
    head = store.write(None, files, "three directories")

    stopped = store.walk(head, "d0")
    assert next(stopped) == ("d0/0.json", b"0/0")
    stopped.close()
    first, second = store.walk(head, "d1"), store.walk(head, "d2")
    side_by_side = [pair for pairs in zip(first, second, strict=True) for pair in pairs]
    again = list(store.walk(head, "d0"))

    assert sorted(side_by_side + again) == sorted(files.items())
    assert [path for path, _ in again] == sorted(
        (p for p in files if p.startswith("d0/")), key=lambda p: p.encode()
    )


def test_a_walk_lists_every_level_of_subdirectories_in_git_order(
    store: GitStore,
) -> None:
    paths = ["a/b/c.txt", "a/d.txt", "a-b", "e.txt", "f/g/h/i.txt", "f/j.txt"]
    head = store.write(None, {path: path.encode() for path in paths}, "nested")

    walked = list(store.walk(head, ""))
    stopped = store.walk(head, "f")
    first = next(stopped)
    stopped.close()

    git = subprocess.run(
        ["git", "-C", str(store.path), "ls-tree", "-r", "-z", "--name-only", head],
        capture_output=True,
        check=True,
    )
    assert [path for path, _ in walked] == git.stdout.decode().rstrip("\0").split("\0")
    assert all(data == path.encode() for path, data in walked)
    assert first == ("f/g/h/i.txt", b"f/g/h/i.txt")
    assert list(store.walk(head, "f")) == [
        ("f/g/h/i.txt", b"f/g/h/i.txt"),
        ("f/j.txt", b"f/j.txt"),
    ]
