"""Where the tests find the repository, its demo fleet and their assets.

One place, so a test file can move to the folder that mirrors its module
without its paths breaking.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
ASSETS = TESTS / "assets"
DEMO = ROOT / "fixtures" / "demo"
