"""README keeps up with what a developer needs to run the tests and look at the simulator (issue 16, items 15–16)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_the_test_section_says_how_to_see_the_simulator_in_a_headless_browser():
    section = _section("Tests")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    packages = {p for line in re.findall(r"apt-get install ([^)|&>]*)", ci) for p in line.split()
                if not p.startswith("-")}
    assert {"chromium", "fonts-noto-cjk"} <= packages, "CI installs the browser and the CJK fonts"
    for package in packages:
        assert package in section, f"README does not name {package}"
    browser_kit = (ROOT / "tests" / "test_pages_browser.py").read_text(encoding="utf-8")
    chromium = re.search(r'CHROMIUM = Path\("([^"]+)"\)', browser_kit).group(1)
    assert chromium in section and "LIANXIN_REQUIRE_BROWSER" in section and "LIANXIN_REQUIRE_PG" in section
    assert "--headless" in section and "/simulator" in section and "--screenshot" in section
    assert "--virtual-time-budget" in section, "without it the screenshot is taken before the page loads its chats"


def test_readme_says_make_run_uses_a_short_callback_delay():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    minutes = re.search(r"DEMO_CALLBACK_MINUTES \?= (\d+)", makefile).group(1)
    intro = (ROOT / "README.md").read_text(encoding="utf-8").split("## ")[0]
    assert f"{minutes} 分钟" in intro or f"{minutes} minutes" in intro
