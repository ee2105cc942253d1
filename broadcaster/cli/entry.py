"""Console-script entry for `broadcaster` (``[project.scripts]``).

`broadcaster [--data-dir D] urgent …` goes to a running serve from here, with the standard
library only (urgent_client.py): urgent latency is measured from the command, and the full
CLI's imports cost more than the whole 500 ms budget on a small PC. Anything else, and
`urgent` with no running serve, runs the full CLI (app.py), imported only then.
"""

from __future__ import annotations

import sys

from .urgent_client import fast_urgent


def main() -> None:
    """Run `broadcaster` with ``sys.argv``: the fast urgent path when it applies, else the full CLI."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")
        except (AttributeError, ValueError):
            pass
    args = sys.argv[1:]
    data_dir: list[str] = []
    if len(args) >= 2 and args[0] == "--data-dir":
        data_dir, args = args[:2], args[2:]
    elif args and args[0].startswith("--data-dir="):
        data_dir, args = ["--data-dir", args[0].split("=", 1)[1]], args[1:]
    if args and args[0] == "urgent" and not {"-h", "--help"} & set(args):
        code = fast_urgent(args[1:] + data_dir)
        if code is not None:
            sys.exit(code)
    from .app import main as full_cli

    full_cli()


if __name__ == "__main__":
    main()
