"""The package version follows the changelog: a result's version stamp tells releases apart."""

from __future__ import annotations

import re
from pathlib import Path

import weibull_stats as ws

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
RELEASE = re.compile(r"^## (\S+)", re.M)


def test_the_top_changelog_release_is_the_package_version() -> None:
    releases = RELEASE.findall(CHANGELOG.read_text(encoding="utf-8"))
    assert releases, "CHANGELOG.md has no release heading (## X.Y.Z)"
    assert releases[0] == ws.__version__, (
        f"CHANGELOG.md's top release is {releases[0]!r} but weibull_stats.__version__ is "
        f"{ws.__version__!r}: a change that moves a printed number gets a version")


def test_every_release_heading_is_a_version() -> None:
    releases = RELEASE.findall(CHANGELOG.read_text(encoding="utf-8"))
    unnumbered = [r for r in releases if not re.fullmatch(r"\d+\.\d+\.\d+", r)]
    assert not unnumbered, f"release headings without a version number: {unnumbered}"
