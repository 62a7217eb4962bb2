"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder of external game data (holding kgs-6d/ and alphago-games.tar.gz), from the
    GOENGINE_DATA environment variable; tests that need it skip when it is unset or missing."""
    value = os.environ.get("GOENGINE_DATA")
    if not value:
        pytest.skip("GOENGINE_DATA is not set: point it at the folder holding kgs-6d/ to run this test")
    root = Path(value)
    if not root.is_dir():
        pytest.skip(f"GOENGINE_DATA={value} is not a folder")
    return root
