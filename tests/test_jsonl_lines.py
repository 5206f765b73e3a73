"""One JSONL line parser, the same rules everywhere: ``workbench validate``, ``workbench run`` and the queue
(``workbench enqueue``) refuse the same lines, with the same codes."""
from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.inputs.jsonl import MAX_LINE_BYTES, parse_line, split_lines
from workbench.runner.queue import iter_inputs

DEEP = b'{"id": "deep", "question": ' + b"[" * 5000 + b"]" * 5000 + b"}"
LINES = [  # (raw line, the code every reader gives it; None for a usable input)
    ('\ufeff{"id": "bom", "question": "What is the refund window?"}'.encode(), None),
    (b'{"id": 7, "question": "An integer id is an id."}\r', None),
    (b"", "empty"),
    (b"   ", "empty"),
    (b"{not json", "invalid_json"),
    (b'{"id": "n", "question": NaN}', "invalid_json"),
    (DEEP, "too_deep"),
    (b'{"id": "d100k", "q": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "too_deep"),
    (b'{"id": "d40", "question": "x", "extra": ' + b"[" * 40 + b"]" * 40 + b"}", "too_deep"),  # parses; too deep
    (b'{"id": "\\ud800", "question": "a lone surrogate as the id"}', "invalid_unicode"),
    (b'{"id": "s", "question": "fine", "documents": ["\\udfff"]}', "invalid_unicode"),
    (b"[1, 2]", "not_object"),
    (b'"just a string"', "not_object"),
    (b'{"question": "no id"}', "missing_id"),
    (b'{"id": true, "question": "a boolean is not an id"}', "missing_id"),
    (b'{"id": "", "question": "an empty id is not an id"}', "missing_id"),
    (b'{"id": "u", "question": "caf\xe9"}', "invalid_utf8"),
    (b'{"id": "ok-2", "question": "How do I reset my password?"}', None),
    (b'{"id": "big", "question": "' + b"a" * MAX_LINE_BYTES + b'"}', "too_long"),  # refused while reading
    (b'{"id": "ok-3", "question": "How do I reset my password?"}', None),
    (b'{"id": "' + b"i" * 500 + b'", "question": "The longest usable id: 500 characters."}', None),
    (b'{"id": "' + b"i" * 501 + b'", "question": "One more is refused (the ledger key holds 500)."}', "missing_id"),
    (b'{"id": ' + b"9" * 501 + b', "question": "An integer too."}', "missing_id"),
]


def LINES_FILE():  # noqa: N802 - a file-like view of LINES
    import io

    return io.BytesIO(b"\n".join(raw for raw, _ in LINES) + b"\n")


def test_a_huge_line_is_refused_in_bounded_reads_never_held_whole():
    """A 1 GB line (a JSON array given by mistake, /dev/zero...) used to be read whole: 300 MB took 1.8 GB of
    memory. It is now skipped in reads of at most ``MAX_LINE_BYTES + 1`` bytes, and the next line is read as usual."""
    class OneGigabyteLine:
        def __init__(self) -> None:
            self.left, self.tail, self.largest = 1 << 30, [b'{"id": "after"}\n'], 0

        def readline(self, size: int) -> bytes:
            self.largest = max(self.largest, size)
            if self.left:
                chunk = min(size, self.left)
                self.left -= chunk
                return b"x" * chunk if self.left or chunk == size else b"x" * (chunk - 1) + b"\n"
            return self.tail.pop() if self.tail else b""

    f = OneGigabyteLine()
    assert list(split_lines(f)) == [(1, None), (2, b'{"id": "after"}')]
    assert f.largest <= MAX_LINE_BYTES + 1
    assert parse_line(None, 1).problem.code == "too_long"


def write(tmp_path) -> str:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(raw for raw, _ in LINES) + b"\n")
    return str(path)


def test_the_parser_gives_each_line_its_code():
    for (n, raw), (_, code) in zip(split_lines(LINES_FILE()), LINES, strict=True):
        line = parse_line(raw, n)
        assert (line.problem.code if line.problem else None) == code, raw[:40]
        assert (line.problem is None) == (line.message is None)


def test_validate_run_and_the_queue_refuse_the_same_lines_with_the_same_codes(tmp_path, capsys):
    src = write(tmp_path)
    expected = {n: code for n, (_, code) in enumerate(LINES, 1) if code}

    assert main(["validate", src, "--out", str(tmp_path / "v.jsonl")]) == 0
    rows = [json.loads(x) for x in (tmp_path / "v.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(LINES)
    by_validate = {r["line"]: r["code"] for r in rows if r["status"] == "rejected"}

    assert main(["run", "--config", "configs/pipeline.yaml", "--input", src, "--out", str(tmp_path / "r.jsonl"),
                 "--db", f"sqlite:///{tmp_path / 'log.db'}"]) == 0
    out = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(out) == len(LINES)
    by_run = {n: o["error"]["code"] for n, o in enumerate(out, 1) if o["status"] == "rejected"}

    errors: list[str] = []
    items = list(iter_inputs(src, errors))
    refused_by_queue = {int(e.split(": line ")[1].split()[0]) for e in errors}

    assert by_validate == by_run == expected
    assert refused_by_queue == set(expected)
    # an object refused by its shape still says which item it was (its id made printable), also one too deep to
    # parse (5,000 or 100k deep: its top level read without descending)
    shown = {7: "deep", 8: "d100k", 9: "d40", 10: "\\ud800", 11: "s"}
    assert {n: rows[n - 1]["id"] for n in shown} == {n: out[n - 1]["id"] for n in shown} == shown
    assert [i for i, _ in items] == ["bom", "7", "ok-2", "ok-3", "i" * 500]


WRONG_TYPES = [b'{"id": "num", "question": 123}', b'{"id": "lst", "question": ["a list"]}',
               b'{"id": "docs", "question": "What is the refund window?", "documents": "nope"}',
               b'{"id": "docs2", "question": "What is the refund window?", "documents": [1, {"id": "x"}]}']


def test_wrong_types_are_named_by_validate_and_run_and_never_reach_a_model(tmp_path):
    """A number or a list as the question was ``empty`` (after a model call with "" in the runner); a string as
    the documents became one document per character. Both are ``wrong_type`` now, and ``question`` missing is
    ``missing_field`` (the pinned prompt requires it)."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join([*WRONG_TYPES, b'{"id": "none", "documents": []}']) + b"\n")
    assert main(["validate", str(src), "--out", str(tmp_path / "v.jsonl")]) == 0
    rows = [json.loads(x) for x in (tmp_path / "v.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["code"] for r in rows[:4]] == ["wrong_type"] * 4
    db = f"sqlite:///{tmp_path / 'log.db'}"
    assert main(["run", "--config", "configs/pipeline.yaml", "--input", str(src), "--out", str(tmp_path / "r.jsonl"),
                 "--db", db]) == 0
    out = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["error"]["code"] for o in out] == ["wrong_type"] * 4 + ["missing_field"]
    assert all(o["status"] == "rejected" and o["answered_by"] is None and o["cost_usd"] == 0 for o in out)


def test_an_id_is_judged_by_one_rule_even_a_huge_integer():
    from workbench.inputs.jsonl import valid_id

    assert valid_id("i" * 500) and valid_id(10**499) and valid_id(7)
    assert not any(valid_id(v) for v in ("i" * 501, 10**500, 10**5000, "", " ", True, 2.5, None, ["a"]))


@pytest.mark.parametrize(("raw", "shown"), [
    (b'{"id": "first", "q": ' + b"[" * 3000 + b"]" * 3000 + b"}", "first"),
    (b'{"q": ' + b'["]}\\"[{", ' * 2000 + b"0" + b"]" * 2000 + b', "id": 7}', 7),  # brackets in strings, id after
    (b'{"id": "a", "q": ' + b"[" * 3000 + b"]" * 3000 + b', "id": "b"}', "b"),  # the last one, as json.loads keeps
    (b'{"q": ' + b"[" * 3000 + b"]" * 3000 + b"}", None),  # none
    (b'{"id": true, "q": ' + b"[" * 3000 + b"]" * 3000 + b"}", None),  # not a usable id
    (b'{"id": "x", "q": ' + b"[" * 3000 + b"]" * 2999 + b"}", None),  # unbalanced: not an object
    (b'[{"id": "x"}, ' + b"[" * 3000 + b"]" * 3000 + b"]", None),  # a list
])
def test_a_line_too_deep_to_parse_keeps_its_top_level_id(raw, shown):
    line = parse_line(raw, 1)
    assert line.problem.code == "too_deep" and line.obj is None and line.shown_id == shown
