"""Fixtures of the content tests: the five seed posts as (path, text) pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import SEED_PATHS


@pytest.fixture(params=SEED_PATHS, ids=[path.stem for path in SEED_PATHS])
def seed_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture
def seed_text(seed_path: Path) -> str:
    return seed_path.read_text(encoding="utf-8")
