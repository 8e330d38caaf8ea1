"""The command line: `python -m core report …` (the Excel summary) and `python -m core sample …`."""
from __future__ import annotations

import sys


USAGE = """usage: python -m core {report,sample} ...

  report   build the Excel summary from your files (python -m core report --help)
  sample   write the bundled sample data (python -m core sample --help)
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "sample":
        from core.sample import main as sample_main
        return sample_main(rest)
    print(f"error: unknown command '{command}'.\n{USAGE}", file=sys.stderr)
    return 2
