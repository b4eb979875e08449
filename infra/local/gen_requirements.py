"""Writes functions/requirements.txt from pyproject's runtime dependencies.

The deploy zip contains only functions/, so it must name its own dependencies; generating
them keeps one source of truth. ``--check`` fails when the file is out of date (CI).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "functions" / "requirements.txt"
HEADER = "# Generated from pyproject.toml by `make requirements`; do not edit.\n"


def render() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return HEADER + "".join(f"{dep}\n" for dep in sorted(deps, key=str.lower))


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("functions/requirements.txt is out of date: run `make requirements`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
