"""``python -m reports``: the readiness report command line (see ``reports.cli``)."""

from __future__ import annotations

from reports.cli import main

if __name__ == "__main__":
    main()
