"""The label-file parser: formats it accepts, and the exact problem for each bad line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrrec.data.labels import (
    BAD_JSON_LIST,
    EMPTY_PATH,
    NO_DELIMITER,
    NOT_UTF8,
    OUTSIDE_DATA_DIR,
    parse_label_bytes,
    read_label_file,
)
from ocrrec.errors import UserError


def parse(text: bytes, data_dir: str | None = "data", delimiter: str = "\t"):
    return parse_label_bytes(text, "train.txt", data_dir=data_dir, delimiter=delimiter)


def test_plain_lines_keep_spaces_and_further_tabs():
    out = parse(b"a.png\thello world\nsub/b.jpg\tx\ty z\n")
    assert [(r.paths, r.label, r.line) for r in out.records] == [
        (("a.png",), "hello world", 1),
        (("sub/b.jpg",), "x\ty z", 2),
    ]
    assert out.problems == []
    assert out.records[1].where == "train.txt:2"


def test_bom_crlf_and_blank_lines():
    out = parse(b"\xef\xbb\xbfa.png\tA\r\n\r\n   \nb.png\tB \r\n")
    assert [(r.path_field, r.label, r.line) for r in out.records] == [("a.png", "A", 1), ("b.png", "B ", 4)]
    assert out.blank_lines == 2
    assert out.lines == 4


def test_json_list_is_one_sample_with_several_images():
    out = parse(b'["11.jpg", "12.jpg"]\tlabel\n')
    (rec,) = out.records
    assert rec.paths == ("11.jpg", "12.jpg")
    assert rec.path_field == '["11.jpg", "12.jpg"]'


def test_other_delimiter():
    out = parse(b"a.png label with space\n", delimiter=" ")
    assert out.records[0].label == "label with space"


@pytest.mark.parametrize(
    ("line", "kind", "message"),
    [
        (b"a.png label", NO_DELIMITER, "no tab between image path and label: a.png label"),
        (b"\tlabel", EMPTY_PATH, "empty image path: \\tlabel"),
        (b'["a.png", \tx', BAD_JSON_LIST, 'not a JSON list of image paths: ["a.png", '),
        (b"[]\tx", BAD_JSON_LIST, "not a JSON list of image paths: []"),
        (b"a\xff.png\tx", NOT_UTF8, "line is not UTF-8 (byte 1)"),
        (b"../secret.png\tx", OUTSIDE_DATA_DIR, "image path ../secret.png is outside data_dir data"),
        (b"/etc/x.png\tx", OUTSIDE_DATA_DIR, "image path /etc/x.png is outside data_dir data"),
        (b'["ok.png", "../../x.png"]\tx', OUTSIDE_DATA_DIR, "image path ../../x.png is outside data_dir data"),
    ],
)
def test_each_bad_line_is_a_problem_with_its_line_number(line, kind, message):
    out = parse(b"good.png\tok\n" + line + b"\n")
    assert len(out.records) == 1
    (problem,) = out.problems
    assert (problem.kind, problem.line, problem.message) == (kind, 2, message)
    assert problem.where == "train.txt:2"


def test_paths_that_stay_inside_data_dir_are_fine(tmp_path: Path):
    inside = tmp_path / "imgs" / "a.png"
    raw = f"sub/../a.png\tx\n{inside}\ty\n".encode()
    out = parse_label_bytes(raw, "l.txt", data_dir=tmp_path)
    assert out.problems == []
    assert len(out.records) == 2


def test_without_data_dir_paths_are_not_checked():
    out = parse(b"../x.png\tx\n", data_dir=None)
    assert out.problems == [] and out.records[0].paths == ("../x.png",)


def test_read_label_file_names_the_key_when_missing(tmp_path: Path):
    with pytest.raises(UserError) as info:
        read_label_file(tmp_path / "nope.txt", key="Train.dataset.label_file_list[0]")
    assert info.value.message == f"Train.dataset.label_file_list[0]: label file not found: {tmp_path / 'nope.txt'}"


def test_read_label_file_reads(tmp_path: Path):
    path = tmp_path / "l.txt"
    path.write_bytes(b"a.png\t\xc3\xa9t\xc3\xa9\n")
    out = read_label_file(path, data_dir=tmp_path)
    assert out.records[0].label == "été"
    assert out.records[0].source == str(path)
