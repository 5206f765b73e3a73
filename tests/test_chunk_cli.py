"""``workbench chunk``: files and folders, strict UTF-8, one error line per bad file, report, exit codes."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.models.tokens import tokenizer_for


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _check_rows(rows: list[dict], limit: int) -> None:
    tok = tokenizer_for("local/extractive")
    for r in rows:
        assert set(r) == {"source", "start", "end", "text", "tokens", "section"}
        text = Path(r["source"]).read_bytes().decode("utf-8")
        assert text[r["start"]:r["end"]] == r["text"]
        assert r["tokens"] == tok.count(r["text"]) <= limit and isinstance(r["section"], list)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    (d / "sub").mkdir(parents=True)
    (d / "a.md").write_text("# A\n\nAlpha paragraph. " * 30, encoding="utf-8")
    (d / "sub" / "b.txt").write_text("Bravo line.\r\nSecond line.\r\n" * 20, encoding="utf-8", newline="")
    (d / "sub" / "c.rst").write_text("Title\n=====\n\nCharlie text.\n", encoding="utf-8")
    (d / "skip.py").write_text("print('not a document')\n", encoding="utf-8")
    (d / "empty.md").write_text("", encoding="utf-8")
    return d


def test_files_and_folders(docs: Path, tmp_path: Path, capsys) -> None:
    extra = tmp_path / "extra.markdown"
    extra.write_text("Extra text here.\n", encoding="utf-8")
    out = tmp_path / "chunks.jsonl"
    code = main(["chunk", str(docs), str(extra), "--strategy", "recursive", "--max-tokens", "40",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = _rows(out)
    _check_rows(rows, 40)
    sources = list(dict.fromkeys(r["source"] for r in rows))
    assert sources == [str(docs / "a.md"), str(docs / "sub" / "b.txt"), str(docs / "sub" / "c.rst"), str(extra)]
    assert any("\r\n" in r["text"] for r in rows), "CRLF must be kept as it is in the file"


def test_bom_counts_as_a_character(tmp_path: Path) -> None:
    f = tmp_path / "bom.md"
    f.write_bytes("\ufeffFirst sentence. Second one.\n\nNext block with é and 日本.\n".encode("utf-8"))
    out = tmp_path / "c.jsonl"
    assert main(["chunk", str(f), "--strategy", "sentence", "--max-tokens", "8", "--out", str(out)]) == 0
    rows = _rows(out)
    _check_rows(rows, 8)
    assert rows[0]["start"] == 0 and rows[0]["text"].startswith("\ufeff")


def test_bad_files_give_one_error_line_each_and_exit_1(docs: Path, tmp_path: Path, capsys) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\u00e9 cr\u00e8me".encode("latin-1"))
    binary = tmp_path / "blob.md"
    binary.write_bytes(b"abc\x00\x01\x02def")
    good = docs / "a.md"
    out = tmp_path / "c.jsonl"
    code = main(["chunk", str(latin), str(binary), str(good), str(tmp_path / "missing.md"),
                 "--strategy", "token", "--max-tokens", "32", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 3
    assert err[0].startswith(f"error: {latin}: not UTF-8")
    assert err[1].startswith(f"error: {binary}: binary")
    assert err[2].startswith(f"error: {tmp_path / 'missing.md'}:")
    rows = _rows(out)
    assert rows and {r["source"] for r in rows} == {str(good)}
    _check_rows(rows, 32)


def test_conversation_jsonl_and_a_malformed_transcript(tmp_path: Path, capsys) -> None:
    good = tmp_path / "chat.jsonl"
    good.write_text("".join(json.dumps({"speaker": s, "text": f"Message {i}."}) + "\n"
                            for i, s in enumerate("ABABAB")), encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"speaker": "A", "text": "ok"}\n{oops\n', encoding="utf-8")
    out = tmp_path / "c.jsonl"
    code = main(["chunk", str(good), str(bad), "--strategy", "conversation", "--max-tokens", "40",
                 "--overlap", "1", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith(f"error: {bad}:") and "2" in err[0]
    rows = _rows(out)
    _check_rows(rows, 40)
    assert all(line.startswith("{") and line.endswith("}") for r in rows for line in r["text"].splitlines())


@pytest.mark.skipif(importlib.util.find_spec("workbench.chunking.quality") is None,
                    reason="workbench.chunking.quality is not there yet")
def test_report_is_json_on_stdout(docs: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.jsonl"
    assert main(["chunk", str(docs), "--strategy", "recursive", "--max-tokens", "64", "--out", str(out),
                 "--report"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert isinstance(report, dict) and report


def test_unknown_strategy_and_bad_params_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "a.md"
    f.write_text("text\n", encoding="utf-8")
    for extra in (["--strategy", "nope"], ["--max-tokens", "2"], ["--overlap", "600"]):
        r = subprocess.run([sys.executable, "-m", "workbench", "chunk", str(f), *extra, "--out",
                            str(tmp_path / "o.jsonl")], capture_output=True, text=True, check=False)
        assert r.returncode == 2, (extra, r.stderr)
        assert "Traceback" not in r.stderr and "error [config]" in r.stderr


def test_a_folder_gives_its_documents_and_says_what_it_skipped(tmp_path, capsys):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "policy.md").write_text("# Refunds\n\nRefunds take 30 days.\n", encoding="utf-8")
    (folder / "FACTS.jsonl").write_text('{"question": "How long?", "answer": "30 days"}\n', encoding="utf-8")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n")
    out = tmp_path / "chunks.jsonl"
    assert main(["chunk", str(folder), "--out", str(out)]) == 0
    assert {Path(r["source"]).name for r in _rows(out)} == {"policy.md"}  # not the answer key
    err = capsys.readouterr().err
    assert "skipped 2 file(s)" in err and "FACTS.jsonl" in err and "logo.png" in err
    assert main(["chunk", str(folder / "FACTS.jsonl"), "--out", str(out)]) == 0  # named: chunked anyway
    assert {Path(r["source"]).name for r in _rows(out)} == {"FACTS.jsonl"}
