#!/usr/bin/env python3
"""Prints one example of README.md: the fenced code block right after the
line `<!-- example: NAME -->`, so the tests compile and run the README's own
text and break when it drifts.

    python3 tests/bindings/readme_example.py NAME [README]
"""

import os
import sys


def example(text: str, name: str) -> str:
    """The code of the block marked `name`; exits 1 when there is none."""
    lines = text.splitlines()
    marker = f"<!-- example: {name} -->"
    try:
        start = lines.index(marker) + 1
    except ValueError:
        sys.exit(f"error: no `{marker}` line in the README")
    if start >= len(lines) or not lines[start].startswith("```"):
        sys.exit(f"error: `{marker}` is not followed by a fenced code block")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("```")), None
    )
    if end is None:
        sys.exit(f"error: the block after `{marker}` is not closed")
    return "\n".join(lines[start + 1 : end]) + "\n"


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    path = sys.argv[2] if len(sys.argv) == 3 else os.path.join(root, "README.md")
    with open(path, encoding="utf-8") as readme:
        sys.stdout.write(example(readme.read(), sys.argv[1]))


if __name__ == "__main__":
    main()
