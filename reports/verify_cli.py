"""``vposlab verify REPORT [--public-key PEM]``: was a readiness report edited after its run?

Role: the click command object ``verify`` (the ``vposlab`` group adds it); ``reports.verify`` does the work. It prints
``INTACT: ...`` or ``EDITED OR INVALID: ...`` followed by one line per problem, each naming the file or field and
what happened to it.

Exit codes: 0 intact; 1 edited or invalid (a file changed, added or removed, a bad or missing signature, a signature
by another key than ``--public-key``, a verdict or finding that does not follow from the items); 2 usage error (no
such path, not a report folder, a public key file that cannot be read).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reports.errors import NotAReportError, SigningError
from reports.verify import verify as verify_report

EXIT_INTACT = 0
EXIT_EDITED = 1
EXIT_USAGE = 2


@click.command(name="verify", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("report", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM public key of the signer to trust (without it: the key the report carries, and a note says so).",
)
def verify(report: Path, public_key: Path | None) -> None:
    """Check a readiness report folder (or its readiness.json): hashes, signature, verdict."""
    try:
        result = verify_report(report, public_key)
    except (NotAReportError, SigningError) as exc:
        click.echo(f"error [{exc.code}]: {exc.message}", err=True)
        sys.exit(EXIT_USAGE)
    for line in result.lines():
        click.echo(line)
    sys.exit(EXIT_INTACT if result.intact else EXIT_EDITED)
