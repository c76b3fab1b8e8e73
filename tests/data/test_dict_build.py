"""dict build library: orders, min count, base dictionaries, space/control handling, NFC, writing."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from ocrrec.charset import read_dict_file
from ocrrec.data.dict_build import build_dictionary, write_dictionary
from ocrrec.data.lmdb_io import write_lmdb
from ocrrec.errors import UsageError, UserError


def labels(tmp_path: Path, *texts: str, name: str = "l.txt") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"img/{i}.png\t{t}\n" for i, t in enumerate(texts)), encoding="utf-8")
    return path


def test_first_seen_frequency_and_codepoint_orders(tmp_path: Path):
    src = [labels(tmp_path, "cab", "bb", "a b")]
    assert build_dictionary(src).characters == ["c", "a", "b"]
    assert build_dictionary(src, sort="frequency").characters == ["b", "a", "c"]
    assert build_dictionary(src, sort="codepoint").characters == ["a", "b", "c"]


def test_space_is_never_a_line_but_is_reported(tmp_path: Path):
    result = build_dictionary([labels(tmp_path, "a b")])
    assert result.characters == ["a", "b"] and result.has_space and result.needs_space_char
    with_base = build_dictionary([labels(tmp_path, "a b")], base="en")  # en_dict ends with a space line
    assert with_base.has_space and not with_base.needs_space_char


def test_min_count_leaves_out_rare_characters(tmp_path: Path):
    result = build_dictionary([labels(tmp_path, "aaab", "bc")], min_count=2)
    assert result.characters == ["a", "b"]
    assert result.below_min_count == [("c", 1)]
    assert result.rare(1) == [("b", 2)]


def test_base_dictionary_keeps_its_order_and_new_characters_follow(tmp_path: Path):
    result = build_dictionary([labels(tmp_path, "ßa€", "Ω")], base="en", sort="codepoint")
    en = read_dict_file(Path(__file__).resolve().parents[2] / "ocrrec" / "dicts" / "en_dict.txt")
    assert result.characters[: len(en)] == en
    assert result.new_characters == ["ß", "Ω", "€"]
    assert (result.base_size, len(result.characters)) == (95, 98)


def test_control_characters_are_left_out(tmp_path: Path):
    result = build_dictionary([labels(tmp_path, "a\tb\x07")])
    assert result.characters == ["a", "b"]
    assert dict(result.control_chars) == {"\t": 1, "\x07": 1}


def test_nfc_merges_decomposed_characters(tmp_path: Path):
    decomposed = unicodedata.normalize("NFD", "é")
    src = [labels(tmp_path, decomposed, "é")]
    assert build_dictionary(src).characters == ["e", "\u0301", "é"]
    result = build_dictionary(src, nfc=True)
    assert result.characters == ["é"] and result.labels_changed_by_nfc == 1


def test_lmdb_sources_and_malformed_lines(tmp_path: Path):
    write_lmdb(tmp_path / "db", [(b"x", "xy"), (b"x", "z")])
    (tmp_path / "l.txt").write_text("img.png\tq\nno tab\n")
    result = build_dictionary([tmp_path / "db", tmp_path / "l.txt"])
    assert result.characters == ["x", "y", "z", "q"] and result.skipped_lines == 1 and result.labels == 3


def test_write_is_utf8_lf_and_refuses_to_overwrite(tmp_path: Path):
    result = build_dictionary([labels(tmp_path, "aé漢")])
    out = tmp_path / "d.txt"
    write_dictionary(result, out)
    assert out.read_bytes() == "a\né\n漢\n".encode()
    with pytest.raises(UserError) as info:
        write_dictionary(result, out)
    assert info.value.message == f"{out} already exists"
    write_dictionary(result, out, force=True)


def test_bad_arguments(tmp_path: Path):
    with pytest.raises(UsageError, match="--sort must be one of first-seen, frequency, codepoint"):
        build_dictionary([labels(tmp_path, "a")], sort="alpha")
    with pytest.raises(UsageError, match="label source not found"):
        build_dictionary([tmp_path / "nope.txt"])
    with pytest.raises(UserError, match="no characters found"):
        build_dictionary([labels(tmp_path, " ")])
