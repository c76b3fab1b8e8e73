"""RecMetric on hand-made pairs (PaddleOCR semantics), exact rank merging, and the Levenshtein core."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ocrrec.errors import ConfigError
from ocrrec.metrics import RecMetric, build_metric, levenshtein, normalized_edit_distance

EPS = 1e-5


def dp_levenshtein(a: str, b: str) -> int:
    """Textbook O(len(a) * len(b)) dynamic programme, the reference for the bit-parallel version."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def pairs(items: list[tuple[str, str]]) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    return [(p, 0.9) for p, _ in items], [(t, 1.0) for _, t in items]


def test_levenshtein_matches_dynamic_programme():
    rng = random.Random(0)
    alphabet = "ab cA1é中"
    for _ in range(3000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert levenshtein(a, b) == dp_levenshtein(a, b), (a, b)
    long_a = "".join(rng.choice(alphabet) for _ in range(150))  # wider than a machine word
    long_b = "".join(rng.choice(alphabet) for _ in range(90))
    assert levenshtein(long_a, long_b) == dp_levenshtein(long_a, long_b)
    assert levenshtein("kitten", "sitting") == 3
    assert normalized_edit_distance("", "") == 0.0
    assert normalized_edit_distance("abc", "") == 1.0
    assert normalized_edit_distance("abcd", "abxd") == 0.25


def test_accuracy_and_edit_distance_as_paddleocr():
    metric = RecMetric()  # ignore_space=True, is_filter=False
    preds, labels = pairs([("hello", "hello"), ("he llo", "hello"), ("Hello", "hello"), ("abcd", "abxd")])
    batch = metric.update(preds, labels)
    assert batch["acc"] == pytest.approx(2 / (4 + EPS), abs=0)
    assert batch["norm_edit_dis"] == pytest.approx(1 - (0.2 + 0.25) / (4 + EPS), abs=1e-9)
    result = metric.get_metric()
    assert result["acc"] == batch["acc"]
    assert metric.num_samples == 0  # get_metric resets by default


def test_ignore_space_false_counts_spaces():
    metric = RecMetric(ignore_space=False)
    metric.update(*pairs([("a b", "ab")]))
    result = metric.get_metric()
    assert result["acc"] == 0.0
    assert result["norm_edit_dis"] == pytest.approx(1 - (1 / 3) / (1 + EPS), abs=1e-9)


def test_is_filter_keeps_ascii_letters_and_digits_lowercased():
    metric = RecMetric(is_filter=True)
    metric.update(*pairs([("Ab-1!", "ab1"), ("é", ""), ("x", "y")]))
    result = metric.get_metric()
    assert result["acc"] == pytest.approx(2 / (3 + EPS), abs=0)


def test_empty_strings_and_empty_metric():
    metric = RecMetric()
    metric.update(*pairs([("", ""), ("", "abc")]))
    result = metric.get_metric()
    assert result["acc"] == pytest.approx(1 / (2 + EPS), abs=0)
    assert result["norm_edit_dis"] == pytest.approx(1 - 1 / (2 + EPS), abs=1e-9)
    empty = RecMetric().get_metric()
    assert empty["acc"] == 0.0 and empty["norm_edit_dis"] == 1.0


def test_case_and_accent_insensitive_breakdown():
    metric = RecMetric(ignore_space=False)
    metric.update(*pairs([("Café", "Café"), ("CAFÉ", "café"), ("cafe", "Café"), ("tea", "Café")]))
    result = metric.get_metric()
    assert result["acc_raw"] == pytest.approx(1 / (4 + EPS), abs=0)
    assert result["acc"] == pytest.approx(1 / (4 + EPS), abs=0)
    assert result["acc_case_insensitive"] == pytest.approx(2 / (4 + EPS), abs=0)
    assert result["acc_accent_insensitive"] == pytest.approx(3 / (4 + EPS), abs=0)


def test_raw_accuracy_ignores_normalisation():
    metric = RecMetric(ignore_space=True)
    metric.update(*pairs([("a b", "ab")]))
    result = metric.get_metric()
    assert result["acc"] > 0.99 and result["acc_raw"] == 0.0


def test_merged_rank_states_equal_a_single_pass_exactly():
    rng = random.Random(1)
    alphabet = "abcde fgAB1é"
    items = []
    for _ in range(500):
        label = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))
        pred = (
            label if rng.random() < 0.4 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15)))
        )
        items.append((pred, label))
    single = RecMetric()
    for start in range(0, 500, 64):
        single.update(*pairs(items[start : start + 64]))
    expected = single.get_metric(reset=False)

    ranks = [RecMetric() for _ in range(3)]
    for index, item in enumerate(items):  # a distributed sampler deals samples round-robin
        ranks[index % 3].update(*pairs([item]))
    states = [rank.state() for rank in ranks]
    assert all(state.dtype == np.int64 for state in states)

    merged = RecMetric.from_states(states)
    assert merged.get_metric() == expected
    summed = RecMetric()
    summed.load_state(np.sum(states, axis=0))  # what an all-reduce(sum) hands back
    assert summed.get_metric() == expected
    incremental = RecMetric()
    for state in reversed(states):
        incremental.merge_state(state)
    assert incremental.get_metric() == expected
    assert np.array_equal(incremental.state(), np.zeros_like(states[0]))  # reset after get_metric


def test_state_validation():
    metric = RecMetric()
    with pytest.raises(ValueError, match="counters"):
        metric.merge_state([1, 2])
    with pytest.raises(ValueError, match="whole counts"):
        metric.load_state([0.5, 1, 0, 0, 0, 0])


def test_paddleocr_call_convention_and_config_building():
    metric = build_metric({"name": "RecMetric", "main_indicator": "acc", "ignore_space": False})
    assert metric.main_indicator == "acc" and metric.ignore_space is False
    result = metric(pairs([("a", "a")]))
    assert result["acc"] == pytest.approx(1 / (1 + EPS), abs=0)
    metric.update(["x"], ["x"])  # plain strings work too
    assert metric.num_samples == 2
    with pytest.raises(ConfigError, match="ignore_spaces"):
        build_metric({"name": "RecMetric", "ignore_spaces": False})
    with pytest.raises(ValueError, match="2 predictions but 1 labels"):
        metric.update(["a", "b"], ["a"])
