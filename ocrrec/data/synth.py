"""Synthetic word-image datasets: render words with varied fonts, colours and mild degradations.

`synth()` writes `train/word_000001.png`..., `val/...`, PaddleOCR label files `train.txt` and
`val.txt` (paths relative to the output folder) and `synth.json`. Validation words never occur
in training, so accuracy on `val` measures generalisation to unseen words. Output depends only
on the arguments and the seed (not on the number of worker processes).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocrrec.data.synth_words import ENGLISH_WORDS
from ocrrec.errors import UserError
from ocrrec.utils.io import atomic_write_text

DEFAULT_FONT_SIZES: tuple[int, ...] = (22, 26, 30, 34, 38)
CASES = ("keep", "lower", "upper", "title", "mixed")
FONT_SUFFIXES = {".ttf", ".otf", ".ttc"}
BUILTIN_FONT = "pillow-default"
# Everything synth() writes; --force removes exactly these.
OUTPUT_NAMES = ("train", "val", "train.txt", "val.txt", "train_lmdb", "val_lmdb", "synth.json")
_SPLIT_CODES = {"train": 0, "val": 1}
_CHUNK = 64


@dataclass
class SynthReport:
    """What `synth()` wrote."""

    out_dir: Path
    train_label_file: Path
    val_label_file: Path
    train_images: int
    val_images: int
    train_words: int
    val_words: int
    characters: str
    fonts: list[str]
    font_sizes: list[int]
    height: int | None
    seed: int
    workers: int
    seconds: float
    skipped_words: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    unsupported_chars: str = ""
    bad_fonts: list[str] = field(default_factory=list)
    lmdb_dirs: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("out_dir", "train_label_file", "val_label_file"):
            data[key] = str(data[key])
        data["lmdb_dirs"] = [str(p) for p in self.lmdb_dirs]
        return data


# --- fonts ----------------------------------------------------------------------------------

_FONT_CACHE: dict[tuple[str | None, int], ImageFont.FreeTypeFont] = {}


def load_font(path: str | None, size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font at `size` px: the file at `path`, or Pillow's built-in one for None."""
    key = (path, size)
    font = _FONT_CACHE.get(key)
    if font is None:
        font = ImageFont.load_default(size) if path is None else ImageFont.truetype(path, size)
        if not isinstance(font, ImageFont.FreeTypeFont):
            raise UserError(
                "Pillow was built without FreeType, so its scalable built-in font is unavailable",
                "pass --fonts DIR with .ttf/.otf files, or install a Pillow wheel with FreeType",
            )
        _FONT_CACHE[key] = font
    return font


def font_display_name(path: str | None) -> str:
    if path is None:
        family, style = load_font(None, 24).getname()
        return f"{BUILTIN_FONT} ({family} {style})"
    return Path(path).name


def find_fonts(fonts_dir: Path) -> tuple[list[str], list[str]]:
    """Loadable font files under `fonts_dir` (sorted) and the names of files that failed to load."""
    fonts_dir = Path(fonts_dir)
    if not fonts_dir.is_dir():
        raise UserError(f"font folder not found: {fonts_dir}", "give a folder of .ttf/.otf files with --fonts")
    candidates = sorted(p for p in fonts_dir.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file())
    good, bad = [], []
    for path in candidates:
        try:
            load_font(str(path), 24)
            good.append(str(path))
        except (OSError, ValueError):
            bad.append(path.name)
    if not good:
        detail = f" ({len(bad)} could not be loaded: {', '.join(bad[:3])})" if bad else ""
        raise UserError(f"no usable font files in {fonts_dir}{detail}", "the folder needs .ttf, .otf or .ttc files")
    return good, bad


def supported_characters(path: str | None, characters: Iterable[str]) -> set[str]:
    """The characters the font draws with a real glyph (not its 'missing glyph' box)."""
    font = load_font(path, 24)

    def signature(ch: str) -> tuple[tuple[int, int], bytes]:
        mask = font.getmask(ch)
        return mask.size, bytes(mask)

    missing = signature("\U0010fffd")  # a private-use code point no font maps
    return {ch for ch in set(characters) if ch.isspace() or signature(ch) != missing}


# --- vocabulary -----------------------------------------------------------------------------


def read_word_file(path: Path) -> list[str]:
    """Words from a UTF-8 file, one per line (line endings and surrounding blanks removed)."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UserError(f"cannot read word list {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 (byte {exc.start})", "save the word list as UTF-8") from None
    words = [line.strip() for line in text.splitlines()]
    words = [w for w in words if w]
    if not words:
        raise UserError(f"word list {path} is empty", "one word (or phrase) per line")
    return words


def _case_variants(word: str, case: str) -> tuple[str, ...]:
    if case == "keep":
        return (word,)
    if case == "lower":
        return (word.lower(),)
    if case == "upper":
        return (word.upper(),)
    if case == "title":
        return (word[:1].upper() + word[1:].lower(),)
    variants = (word.lower(), word[:1].upper() + word[1:].lower(), word.upper())
    return tuple(dict.fromkeys(variants))


@dataclass(frozen=True)
class _Entry:
    """One vocabulary item: its identity for the train/val split and the label spellings it may take."""

    key: str
    variants: tuple[str, ...]
    fonts: tuple[int, ...]  # indices of fonts that can draw every variant


def _random_strings(chars: Sequence[str], total: int, min_len: int, max_len: int, rng: np.random.Generator) -> list[str]:
    """Up to `total` distinct random strings; whitespace never starts or ends one, nor repeats."""
    inner = list(chars)
    edge = [c for c in chars if not c.isspace()]
    if not edge:
        return []
    found: dict[str, None] = {}
    tries = 0
    while len(found) < total and tries < total * 20:
        tries += 1
        length = int(rng.integers(min_len, max_len + 1))
        picks = [edge[int(rng.integers(len(edge)))]]
        for _ in range(length - 2):
            ch = inner[int(rng.integers(len(inner)))]
            if ch.isspace() and picks[-1].isspace():
                ch = edge[int(rng.integers(len(edge)))]
            picks.append(ch)
        if length >= 2:
            picks.append(edge[int(rng.integers(len(edge)))])
        found["".join(picks)] = None
    return list(found)


def _split(entries: list[_Entry], val_fraction: float, rng: np.random.Generator) -> tuple[list[_Entry], list[_Entry]]:
    order = rng.permutation(len(entries))
    shuffled = [entries[i] for i in order]
    if val_fraction <= 0:
        return shuffled, []
    n_val = min(max(1, round(len(shuffled) * val_fraction)), len(shuffled) - 1)
    return shuffled[n_val:], shuffled[:n_val]


def _draw(pool: list[_Entry], n: int, rng: np.random.Generator) -> list[_Entry]:
    """`n` entries cycling through `pool` in a fresh random order each round (even coverage)."""
    picks: list[_Entry] = []
    while len(picks) < n:
        picks.extend(pool[i] for i in rng.permutation(len(pool)))
    return picks[:n]


# --- rendering ------------------------------------------------------------------------------


def _luminance(bgr: np.ndarray) -> float:
    b, g, r = (float(v) for v in bgr)
    return 0.114 * b + 0.587 * g + 0.299 * r


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Background and text colours (BGR float) with a luminance gap of at least 90."""
    while True:
        light = rng.random() < 0.6
        base_bg = rng.uniform(165, 250) if light else rng.uniform(5, 90)
        base_fg = rng.uniform(0, 80) if light else rng.uniform(175, 255)
        bg = np.clip(base_bg + rng.normal(0, 18, 3), 0, 255)
        fg = np.clip(base_fg + rng.normal(0, 22, 3), 0, 255)
        if abs(_luminance(bg) - _luminance(fg)) >= 90:
            return bg, fg


def _background(h: int, w: int, colour: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    kind = rng.random()
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = colour
    if kind < 0.3:  # linear gradient
        ramp = np.linspace(-1.0, 1.0, w if rng.random() < 0.7 else h, dtype=np.float32)
        ramp = ramp[None, :, None] if ramp.size == w else ramp[:, None, None]
        bg += ramp * rng.uniform(8, 25)
    elif kind < 0.5:  # soft blotchy texture
        small = rng.normal(0, 1, (max(2, h // 6), max(2, w // 6), 1)).astype(np.float32)
        texture = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        bg += texture.reshape(h, w, 1) * rng.uniform(4, 12)
    return bg


def _text_mask(text: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator) -> tuple[np.ndarray, int, int, int]:
    """Anti-aliased mask of `text` on a roomy canvas, plus the baseline row and the band
    (top, bottom offsets from the baseline) that spans ascenders and descenders."""
    size = int(font.size)
    stroke = 1 if size >= 24 and rng.random() < 0.25 else 0  # faux bold
    tracking = rng.uniform(-0.02, 0.12) * size if rng.random() < 0.25 else 0.0
    ref_top, ref_bottom = font.getbbox("Hg", anchor="ls")[1::2]
    left, top, right, bottom = font.getbbox(text, anchor="ls", stroke_width=stroke)
    margin = size
    width = int(right - left + abs(tracking) * len(text) + 2 * margin)
    height = int(max(bottom, ref_bottom) - min(top, ref_top) + 2 * margin)
    baseline = margin - int(min(top, ref_top))
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    x = float(margin - left)
    if tracking:
        for ch in text:
            draw.text((x, baseline), ch, fill=255, font=font, anchor="ls", stroke_width=stroke, stroke_fill=255)
            x += font.getlength(ch) + tracking
    else:
        draw.text((x, baseline), text, fill=255, font=font, anchor="ls", stroke_width=stroke, stroke_fill=255)
    mask = np.asarray(canvas, dtype=np.uint8)
    if rng.random() < 0.25:  # synthetic italic: lean right above the baseline
        shear = rng.uniform(0.12, 0.28)
        matrix = np.float32([[1, -shear, shear * baseline], [0, 1, 0]])
        mask = cv2.warpAffine(mask, matrix, (width, height), flags=cv2.INTER_LINEAR)
    band_top = min(int(top), int(ref_top)) - stroke
    band_bottom = max(int(bottom), int(ref_bottom)) + stroke
    return mask, baseline, band_top, band_bottom


def render_word(text: str, font: ImageFont.FreeTypeFont, rng: np.random.Generator, height: int | None) -> np.ndarray:
    """One BGR uint8 image of `text`: cropped to the text line plus random padding."""
    mask, baseline, band_top, band_bottom = _text_mask(text, font, rng)
    ink_cols = np.flatnonzero(mask.max(axis=0) > 24)
    if ink_cols.size == 0:
        raise ValueError(f"nothing visible to draw for {text!r}")
    band_h = band_bottom - band_top
    pad = rng.uniform([0.03, 0.03, 0.02, 0.02], [0.22, 0.22, 0.30, 0.30]) * band_h
    y0 = max(0, int(baseline + band_top - pad[0]))
    y1 = min(mask.shape[0], int(baseline + band_bottom + pad[1]) + 1)
    x0 = max(0, int(ink_cols[0] - pad[2]))
    x1 = min(mask.shape[1], int(ink_cols[-1] + pad[3]) + 2)
    alpha = mask[y0:y1, x0:x1].astype(np.float32)[:, :, None] / 255.0
    h, w = alpha.shape[:2]
    bg_colour, fg_colour = _colours(rng)
    image = _background(h, w, bg_colour, rng)
    image += (fg_colour.astype(np.float32) - image) * alpha
    if rng.random() < 0.3:  # slight rotation, edges repeated
        angle = rng.uniform(-2.5, 2.5)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        image = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    stretch = rng.uniform(0.85, 1.15)
    out_h = height or h
    out_w = max(1, round(w * out_h / h * stretch))
    shrink = out_h < h
    image = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 0.9))
    if rng.random() < 0.3:
        image += rng.normal(0, rng.uniform(2, 7), image.shape).astype(np.float32)
    image = np.clip(image, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:  # mild compression artefacts
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(45, 85))])
        if ok:
            image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return image


@dataclass(frozen=True)
class _Job:
    rel_path: str
    text: str
    font_path: str | None
    font_size: int
    split_code: int
    index: int


def _render_jobs(out_dir: str, seed: int, height: int | None, jobs: Sequence[_Job]) -> int:
    """Render and write `jobs` (runs in worker processes too); returns how many were written."""
    for job in jobs:
        rng = np.random.default_rng([seed, job.split_code, job.index])
        image = render_word(job.text, load_font(job.font_path, job.font_size), rng, height)
        ok, buf = cv2.imencode(".png", image)
        if not ok:
            raise RuntimeError(f"PNG encoding failed for {job.rel_path}")
        Path(out_dir, job.rel_path).write_bytes(buf.tobytes())
    return len(jobs)


def _render_chunk(args: tuple[str, int, int | None, Sequence[_Job]]) -> int:
    return _render_jobs(*args)


# --- the public entry point -----------------------------------------------------------------


def _prepare_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} exists and is not a folder", "choose a folder path for the synthetic data")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not force:
            raise UserError(
                f"output folder {out_dir} is not empty",
                "pass --force to replace the synthetic data in it, or choose another folder",
            )
        for name in OUTPUT_NAMES:
            target = out_dir / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
    (out_dir / "train").mkdir(parents=True, exist_ok=True)
    (out_dir / "val").mkdir(parents=True, exist_ok=True)


def _check_args(count: int, val_fraction: float, min_len: int, max_len: int, height: int | None,
                font_sizes: Sequence[int], case: str, digits: float) -> None:  # fmt: skip
    if count < 1:
        raise UserError(f"--count must be at least 1 (got {count})")
    if not 0 <= val_fraction < 1:
        raise UserError(f"--val-fraction must be in [0, 1) (got {val_fraction})")
    if val_fraction > 0 and count < 2:
        raise UserError("need --count of at least 2 to have both train and val images", "or pass --val-fraction 0")
    if min_len < 1 or max_len < min_len:
        raise UserError(f"bad length range --min-len {min_len} --max-len {max_len}", "need 1 <= min-len <= max-len")
    if height is not None and height < 8:
        raise UserError(f"--height must be at least 8 pixels (got {height})", "or 0 to keep the rendered height")
    if not font_sizes or min(font_sizes) < 6 or max(font_sizes) > 300:
        raise UserError(f"font sizes must be between 6 and 300 px (got {list(font_sizes)})")
    if case not in CASES:
        raise UserError(f"unknown case mode `{case}`", f"one of: {', '.join(CASES)}")
    if not 0 <= digits <= 1:
        raise UserError(f"--digits must be a fraction in [0, 1] (got {digits})")


def _vocabulary(
    words: Sequence[str] | None,
    dict_chars: Sequence[str] | None,
    font_paths: list[str | None],
    count: int,
    min_len: int,
    max_len: int,
    case: str,
    rng: np.random.Generator,
) -> tuple[list[_Entry], list[str], set[str]]:
    """Usable vocabulary entries, the skipped words and the characters no font can draw."""
    skipped: list[str] = []
    unsupported: set[str] = set()
    candidates: list[tuple[str, tuple[str, ...]]] = []
    if words is None and dict_chars is not None:
        pool_chars = [c for c in dict.fromkeys(dict_chars) if c not in "\t\r\n"]
        drawable = set().union(*(supported_characters(p, pool_chars) for p in font_paths))
        unsupported = {c for c in pool_chars if c not in drawable}
        pool_chars = [c for c in pool_chars if c in drawable]
        if not [c for c in pool_chars if not c.isspace()]:
            raise UserError(
                "none of the dictionary's characters can be drawn with the fonts",
                "pass --fonts DIR with a font that covers the dictionary's script",
            )
        candidates = [(s, (s,)) for s in _random_strings(pool_chars, count, min_len, max_len, rng)]
    else:
        # Spellings that differ only in case are one word for the split (never in both).
        by_key: dict[str, tuple[str, ...]] = {}
        for word in words if words is not None else ENGLISH_WORDS:
            key = word.lower()
            by_key[key] = tuple(dict.fromkeys(by_key.get(key, ()) + _case_variants(word, case)))
        allowed = set(dict_chars) if dict_chars is not None else None
        for key, variants in by_key.items():
            if allowed is not None:
                variants = tuple(v for v in variants if set(v) <= allowed)
            if not min_len <= len(key) <= max_len or not variants or any(c in key for c in "\t\r\n"):
                skipped.append(key)
            else:
                candidates.append((key, variants))
    all_chars = {c for _, variants in candidates for v in variants for c in v}
    support = {p: supported_characters(p, all_chars) for p in font_paths}
    entries: list[_Entry] = []
    for key, variants in candidates:
        fonts = tuple(i for i, p in enumerate(font_paths) if all(set(v) <= support[p] for v in variants))
        if fonts:
            entries.append(_Entry(key, variants, fonts))
        else:
            skipped.append(key)
            unsupported |= {c for v in variants for c in v if not any(c in support[p] for p in font_paths)}
    return entries, skipped, unsupported


def _plan(
    split: str,
    n: int,
    pool: list[_Entry],
    numbers: list[_Entry],
    digits: float,
    font_paths: list[str | None],
    font_sizes: list[int],
    rng: np.random.Generator,
) -> tuple[list[_Job], list[str], set[str]]:
    """Jobs for one split with every random choice but the rendering itself made here."""
    use_number = (rng.random(n) < digits) if numbers else np.zeros(n, bool)
    word_picks = iter(_draw(pool, int((~use_number).sum()), rng))
    number_picks = iter(_draw(numbers, int(use_number.sum()), rng)) if numbers else iter(())
    jobs, labels, keys = [], [], set()
    for i in range(n):
        entry = next(number_picks) if use_number[i] else next(word_picks)
        text = entry.variants[int(rng.integers(len(entry.variants)))]
        font_index = entry.fonts[int(rng.integers(len(entry.fonts)))]
        size = font_sizes[int(rng.integers(len(font_sizes)))]
        rel = f"{split}/word_{i + 1:06d}.png"
        jobs.append(_Job(rel, text, font_paths[font_index], size, _SPLIT_CODES[split], i))
        labels.append(text)
        keys.add(entry.key)
    return jobs, labels, keys


def _render_all(
    out_dir: Path,
    seed: int,
    height: int | None,
    jobs: list[_Job],
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> int:
    """Render `jobs` in chunks, in this process or a pool; returns the worker count used."""
    if workers is None:
        # Measured on 2 shared cores: 2 processes only win for several thousand images.
        workers = 2 if len(jobs) >= 5000 and (os.cpu_count() or 1) >= 2 else 1
    workers = max(1, min(int(workers), 32, len(jobs) // _CHUNK))
    chunks = [(str(out_dir), seed, height, jobs[i : i + _CHUNK]) for i in range(0, len(jobs), _CHUNK)]
    done = 0
    with contextlib.ExitStack() as stack:
        if workers == 1:
            results: Iterator[int] = map(_render_chunk, chunks)
        else:
            pool = stack.enter_context(multiprocessing.get_context().Pool(workers))
            results = pool.imap_unordered(_render_chunk, chunks)
        for written in results:
            done += written
            if progress:
                progress(done, len(jobs))
    return workers


def synth(
    out_dir: Path,
    *,
    words: Sequence[str] | None = None,
    dict_chars: Sequence[str] | None = None,
    count: int = 2000,
    val_fraction: float = 0.1,
    fonts_dir: Path | None = None,
    font_sizes: Sequence[int] = DEFAULT_FONT_SIZES,
    height: int | None = 48,
    seed: int = 0,
    min_len: int = 3,
    max_len: int = 15,
    case: str = "keep",
    digits: float = 0.0,
    workers: int | None = None,
    lmdb: bool = False,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SynthReport:
    """Render `count` word images into `out_dir` and write PaddleOCR label files.

    Words come from `words`, else random strings of `min_len`-`max_len` characters drawn from
    `dict_chars`, else the embedded English list. With both `words` and `dict_chars`, words
    using characters outside the dictionary are skipped. Word lists are filtered to
    `min_len`-`max_len` characters. `case` (word lists only): keep | lower | upper | title |
    mixed (chosen per image). `digits` (word lists only): share of images showing a 1-6 digit
    number instead of a word. A `val_fraction` share of distinct words (and of images) goes
    to `val`; no val word is in train. `height` scales every image to that height (None keeps
    the rendered height); 48 leaves room for RecAug's crops, which remove up to 8 rows
    whatever the image height. `workers`: processes to render with (None: 2 for 5000+ images
    when 2 CPUs exist). `lmdb` also writes `train_lmdb/` and `val_lmdb/`.
    `progress(done, total)` is called as images are written. Raises UserError for anything
    the caller can fix.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    height = height or None
    font_sizes = [int(s) for s in font_sizes]
    _check_args(count, val_fraction, min_len, max_len, height, font_sizes, case, digits)
    rng = np.random.default_rng(seed)
    bad_fonts: list[str] = []
    font_paths: list[str | None] = [None]
    if fonts_dir is not None:
        found, bad_fonts = find_fonts(fonts_dir)
        font_paths = list(found)
    else:
        load_font(None, font_sizes[0])

    random_mode = words is None and dict_chars is not None
    entries, skipped, unsupported = _vocabulary(words, dict_chars, font_paths, count, min_len, max_len, case, rng)
    min_entries = 2 if val_fraction > 0 else 1
    if len(entries) < min_entries:
        what = "random strings" if random_mode else "words"
        raise UserError(
            f"only {len(entries)} usable {what} (need at least {min_entries})",
            "check --min-len/--max-len, --dict and --fonts against the word list",
        )
    train_entries, val_entries = _split(entries, val_fraction, rng)
    n_val = 0 if not val_entries else min(count - 1, max(1, round(count * val_fraction)))
    numbers: tuple[list[_Entry], list[_Entry]] = ([], [])
    if digits > 0 and not random_mode:
        digit_fonts = tuple(i for i, p in enumerate(font_paths) if len(supported_characters(p, "0123456789")) == 10)
        if digit_fonts:
            pool = _random_strings(list("0123456789"), max(20, round(count * digits * 2) + 10), 1, 6, rng)
            numbers = _split([_Entry(n, (n,), digit_fonts) for n in pool], val_fraction, rng)
    train_jobs, train_labels, train_keys = _plan(
        "train", count - n_val, train_entries, numbers[0], digits, font_paths, font_sizes, rng
    )
    val_jobs, val_labels, val_keys = _plan("val", n_val, val_entries, numbers[1], digits, font_paths, font_sizes, rng)

    _prepare_out_dir(out_dir, force)
    used_workers = _render_all(out_dir, seed, height, train_jobs + val_jobs, workers, progress)
    splits = {"train": (train_jobs, train_labels), "val": (val_jobs, val_labels)}
    for split, (jobs, labels) in splits.items():
        lines = "".join(f"{job.rel_path}\t{label}\n" for job, label in zip(jobs, labels, strict=True))
        atomic_write_text(out_dir / f"{split}.txt", lines)
    lmdb_dirs: list[Path] = []
    if lmdb:
        from ocrrec.data.lmdb_io import write_lmdb

        for split, (jobs, labels) in splits.items():
            items = ((out_dir.joinpath(job.rel_path).read_bytes(), label) for job, label in zip(jobs, labels, strict=True))
            write_lmdb(out_dir / f"{split}_lmdb", items)
            lmdb_dirs.append(out_dir / f"{split}_lmdb")

    report = SynthReport(
        out_dir=out_dir,
        train_label_file=out_dir / "train.txt",
        val_label_file=out_dir / "val.txt",
        train_images=len(train_jobs),
        val_images=len(val_jobs),
        train_words=len(train_keys),
        val_words=len(val_keys),
        characters="".join(sorted({c for label in train_labels + val_labels for c in label})),
        fonts=[font_display_name(p) for p in font_paths],
        font_sizes=font_sizes,
        height=height,
        seed=seed,
        workers=used_workers,
        seconds=round(time.perf_counter() - started, 3),
        skipped_words=len(skipped),
        skipped_examples=skipped[:5],
        unsupported_chars="".join(sorted(unsupported)),
        bad_fonts=bad_fonts,
        lmdb_dirs=lmdb_dirs,
    )
    source = "words" if words is not None else ("dict" if random_mode else "embedded-english")
    meta = dict(report.to_dict(), case=case, digits=digits, val_fraction=val_fraction, source=source)
    meta.pop("seconds")
    atomic_write_text(out_dir / "synth.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return report
