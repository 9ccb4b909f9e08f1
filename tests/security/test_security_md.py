"""SECURITY.md names the test behind each guarantee: every test it names exists, so that the
document cannot go on citing a test that was renamed or removed."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPAN = re.compile(r"`([^`]+)`")


def cited_tests() -> list[tuple[str, str | None]]:
    """(file, test name or None) for every `tests/...` span; `::name` spans after one on the same
    line name tests in that file."""
    cited = []
    for line in (ROOT / "SECURITY.md").read_text().splitlines():
        current = None
        for span in SPAN.findall(line):
            path, _, name = span.partition("::")
            if path.startswith("tests/") and path.endswith(".py"):
                current = path
            elif path or current is None:
                continue
            cited.append((current, name.split("[")[0] or None))
    return cited


def test_security_md_cites_tests():
    assert len(cited_tests()) >= 30


def test_every_test_security_md_cites_exists():
    missing = []
    for path, name in cited_tests():
        source = ROOT / path
        if not source.exists():
            missing.append(path)
        elif name and not re.search(rf"^def {re.escape(name)}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert missing == []
