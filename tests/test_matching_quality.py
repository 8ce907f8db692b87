"""Matching quality on a small labelled town (bench/matching_quality.py has the city): the
first three suggestions are the right ones, and none is in a language the asker cannot read."""
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "matching_quality.py"


@pytest.fixture(scope="module")
def quality_bench():
    spec = importlib.util.spec_from_file_location("matching_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_suggestions_in_a_labelled_town_are_the_right_ones_and_readable(session, policy, quality_bench):
    town = quality_bench.build_town(session, policy, ("효자동", "삼청동"), seed=13)
    session.commit()

    quality = quality_bench.measure(session, town)

    assert quality.askers == 22 and quality.suggestions > 0
    assert quality.precision_at_3 >= quality_bench.TARGET_PRECISION_AT_3
    assert quality.wrong_language == 0
    assert quality.left_without == 0
