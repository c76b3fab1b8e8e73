"""Character dictionaries: built-in ones by name, files by path, and the class list.

A dictionary is a UTF-8 file with one character per line; the index of a
character is its line order. This module resolves names/paths and reads them
exactly as PaddleOCR does (only the line ending is stripped, so a full-width
space line survives), plus BOM and `\\r\\n` tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ocrrec.errors import UserError

DICT_DIR = Path(__file__).parent / "dicts"

# name -> file in ocrrec/dicts; names are what users type (`--dict en`).
BUILTIN_DICTS: dict[str, str] = {
    "ppocr_keys_v1": "ppocr_keys_v1.txt",
    "ch": "ppocr_keys_v1.txt",
    "chinese": "ppocr_keys_v1.txt",
    "ic15": "ic15_dict.txt",
    "en": "en_dict.txt",
    "chinese_cht": "chinese_cht_dict.txt",
    "french": "french_dict.txt",
    "german": "german_dict.txt",
    "japan": "japan_dict.txt",
    "korean": "korean_dict.txt",
    "latin": "latin_dict.txt",
    "arabic": "arabic_dict.txt",
    "cyrillic": "cyrillic_dict.txt",
    "devanagari": "devanagari_dict.txt",
    "ka": "ka_dict.txt",
    "ta": "ta_dict.txt",
    "te": "te_dict.txt",
    "ppocrv4_doc": "ppocrv4_doc_dict.txt",
}

# PaddleOCR's default when no dictionary is configured (labels are lower-cased).
DEFAULT_CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz"


def builtin_names() -> list[str]:
    return sorted(BUILTIN_DICTS)


def resolve_dict(spec: str | Path | None) -> Path | None:
    """Turn a dictionary name or path into a file path (None: PaddleOCR's default set).

    A path from a PaddleOCR config (`ppocr/utils/dict/french_dict.txt`) that does
    not exist here resolves to the identical built-in copy.
    """
    if spec is None or str(spec).strip() == "":
        return None
    text = str(spec)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if text in BUILTIN_DICTS:
        return DICT_DIR / BUILTIN_DICTS[text]
    if path.name in set(BUILTIN_DICTS.values()) and not path.exists():
        return DICT_DIR / path.name
    if path.is_dir():
        raise UserError(f"dictionary {text} is a directory", "give the dictionary .txt file")
    raise UserError(
        f"dictionary not found: {text}",
        f"give a file path or a built-in name ({', '.join(builtin_names())}); "
        "build one with `ocrrec dict build LABELS --out my_dict.txt`",
    )


def read_dict_file(path: Path) -> list[str]:
    """Characters of a dictionary file, one per line, in order.

    Strips only the line ending (a BOM at the start is dropped), like PaddleOCR. A blank line
    stays a (never matched) class, as in PaddleOCR, so class ids stay weight-compatible.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read dictionary {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 (byte {exc.start})", "save the dictionary as UTF-8, one character per line"
        ) from None
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # the newline that ends the last line does not start another
    chars = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not any(chars):
        raise UserError(f"dictionary {path} is empty", "one character per line, UTF-8")
    return chars


@dataclass(frozen=True)
class Charset:
    """The recognisable characters (without any blank/special tokens).

    `lower` is True only for PaddleOCR's default 36-char set, where labels are
    lower-cased before encoding.
    """

    characters: tuple[str, ...]
    use_space_char: bool = False
    lower: bool = False
    source: str = "default"

    @classmethod
    def from_spec(cls, spec: str | Path | None, use_space_char: bool = False) -> Charset:
        return _load_charset(None if spec is None else str(spec), bool(use_space_char))

    @classmethod
    def from_characters(cls, characters: list[str], use_space_char: bool = False, source: str = "inline") -> Charset:
        """A charset from a character list (e.g. an exported model's inference.yml)."""
        chars = [str(c) for c in characters]
        if use_space_char:
            chars.append(" ")
        return cls(tuple(chars), bool(use_space_char), False, source)

    def file_characters(self) -> list[str]:
        """The dictionary lines (without the appended space class)."""
        return list(self.characters[:-1] if self.use_space_char else self.characters)

    def __len__(self) -> int:
        return len(self.characters)

    @property
    def char_to_index(self) -> dict[str, int]:
        """Later lines win on duplicates, as in PaddleOCR."""
        return {c: i for i, c in enumerate(self.characters)}


@lru_cache(maxsize=32)
def _load_charset(spec: str | None, use_space_char: bool) -> Charset:
    path = resolve_dict(spec)
    if path is None:
        # PaddleOCR ignores use_space_char for its default set; so do we.
        return Charset(tuple(DEFAULT_CHARACTERS), False, True, "default (0-9a-z)")
    chars = read_dict_file(path)
    if use_space_char:
        chars.append(" ")
    return Charset(tuple(chars), use_space_char, False, str(path))
