"""Long mode of the fuzzing of the Ecwid payment request and the bank callback (issue 10): one command, a table.

    python -m bench.fuzz --executions 1000000            # plain random mutation loop (default engine)
    python -m bench.fuzz --executions 1000000 --engine atheris   # coverage-guided, where atheris installs
    python -m bench.fuzz --replay ecwid.parse:123456     # rerun one case of a random run (same --seed)

It runs the properties of ``tests/fuzz`` with the same generators and oracles (``bench.fuzz_targets``) for
``--executions`` executions in total, split into

- three fast targets calling the parsing functions directly, without hypothesis' overhead:
  ``ecwid.decrypt`` (``decrypt_gcm`` / ``decrypt_cbc`` on genuine, tampered and junk tokens), ``ecwid.parse``
  (``parse_payment_request`` on whole forms, also beyond its size limit) and ``callback.parse`` (werkzeug's
  parsing through the gateway's request class, the request guard's checks, the checksum, the id check);
- a sample (``--app-share``, 2% by default) through the real Flask app over a fresh SQLite database, with the bank
  and Ecwid answered by an ``httpx.MockTransport``: ``ecwid.app`` (POST /ecwid/payment) and ``callback.app``
  (GET/POST /vpos/callback).

Engines. ``random`` (default): a plain loop over a seeded ``random.Random``, reseeded for every case from
``--seed``, the target and the case's index, so any failure replays alone (``--replay``); every crash is counted
and the loop goes on. ``atheris``: each fast target in its own process under atheris (libFuzzer, coverage of the
gateway's Python code), driving the same generators through a ``FuzzedDataProvider``; crashing inputs are kept
in the work folder. Hypothesis is not used here (it runs the bounded version in the suite).

Columns: ``crashes`` are exceptions other than the documented ``InvalidPaymentRequest`` (and any 5xx through the
app); ``violations`` are broken properties (a forged callback taken, a genuine request refused, another plaintext
out of an authenticated token...); ``refusal classes`` counts the distinct answers to refused inputs: for the
``ecwid.*`` targets every decrypt or parse failure must be one class (an exception type for the fast targets,
status + headers + body through the app: no oracle); for ``callback.app`` it is informational (the guard's 400
"bad request" and the checksum's 400 "bad checksum"). Exit status 1 when anything crashed or broke a property.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import zlib
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # imported lazily: the atheris worker must instrument the gateway before it is imported
    import httpx
    from flask import Flask

    from bench.fuzz_targets import CallbackApp, EcwidApp, EcwidFixture, Source

T = TypeVar("T")

STORE_ID = 1003
CLIENT_SECRET = "fuzz-pay-app-client-secret-0123456789"  # noqa: S105 (made up; the AES key: its first 16 characters)
CALLBACK_KEY = "fuzz-callback-key-0123456789"
FAST_TARGETS = ("ecwid.decrypt", "ecwid.parse", "callback.parse")
APP_TARGETS = ("ecwid.app", "callback.app")
MAX_FAILURES_SHOWN = 3


@dataclass
class Tally:
    target: str
    engine: str
    executions: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: int = 0
    violations: int = 0
    classes: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def record(self, outcome: str | None) -> None:
        """``outcome``: None when accepted, else the refusal's class ("" when refusals are not classed)."""
        self.executions += 1
        if outcome is None:
            self.accepted += 1
        else:
            self.refused += 1
            if outcome:
                self.classes.add(outcome)

    def fail(self, where: str, exc: BaseException) -> None:
        self.executions += 1
        from bench.fuzz_targets import PropertyViolation, ServerError

        if isinstance(exc, PropertyViolation) and not isinstance(exc, ServerError):
            self.violations += 1
        else:
            self.crashes += 1
        if len(self.failures) < MAX_FAILURES_SHOWN:
            self.failures.append(f"{where}: {type(exc).__name__}: {str(exc)[:200]}")


def case_rng(seed: int, target: str, index: int) -> random.Random:
    """The case's own random stream: replayable alone."""
    return random.Random((seed << 64) ^ (zlib.crc32(target.encode()) << 32) ^ index)


# --- a gateway for the app sample (no tests.* import: the long mode runs from bench alone) -----------------------


def _outside_world(request: httpx.Request) -> httpx.Response:
    """The bank (register.do answers a new order; no order is known to the status call) and Ecwid (any PUT)."""
    import httpx

    if request.url.path.endswith(("/register.do", "/registerPreAuth.do")):
        md_order = str(uuid.uuid4())
        form_url = f"https://bank.fuzz/payment/merchants/fuzz/payment_en.html?mdOrder={md_order}"
        return httpx.Response(200, json={"errorCode": "0", "orderId": md_order, "formUrl": form_url})
    if request.url.path.endswith(".do"):
        return httpx.Response(200, json={"errorCode": "6", "errorMessage": "No such order"})
    return httpx.Response(200, json={"updateCount": 1})


def build_app(workdir: Path, stack: ExitStack) -> tuple[Flask, Callable[[], dict[str, int]]]:
    """The real app over a migrated SQLite database, and a function counting the rows a request may write."""
    import httpx
    from cryptography.fernet import Fernet
    from pydantic import SecretStr
    from sqlalchemy import func, select

    from gateway import build_context, create_app
    from gateway.settings import ProviderCredentials, ProviderMode, Settings
    from gateway.store.database import Database
    from gateway.store.models import Attempt, OperatorException, OutboxMessage, PaymentEvent, PaymentSession

    database_url = f"sqlite:///{workdir}/gateway.sqlite3"
    settings = Settings(
        public_url="http://gateway.fuzz",
        ecwid_client_secrets={STORE_ID: SecretStr(CLIENT_SECRET)},
        ecwid_api_url="https://ecwid.fuzz/api/v3",
        provider_mode=ProviderMode.TEST,
        provider_base_url="https://bank.fuzz/payment/rest/",
        provider_credentials={
            "AMD": ProviderCredentials(user_name="fuzz_amd", password=SecretStr("bank-password-amd")),
            "USD": ProviderCredentials(user_name="fuzz_usd", password=SecretStr("bank-password-usd")),
        },
        callback_key=SecretStr(CALLBACK_KEY),
        token_key=SecretStr(Fernet.generate_key().decode()),
        database_url=database_url,
        payment_rate_limit="",  # one client sends everything here
    )
    migrations = Database(database_url)
    try:
        migrations.migrate()
    finally:
        migrations.dispose()
    http = stack.enter_context(httpx.Client(transport=httpx.MockTransport(_outside_world)))
    ctx = build_context(settings, http=http)
    stack.callback(ctx.db.dispose)
    models = (PaymentSession, Attempt, OutboxMessage, OperatorException, PaymentEvent)

    def row_counts() -> dict[str, int]:
        with ctx.db.session() as session:
            return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0 for m in models}

    return create_app(context=ctx), row_counts


# --- the random engine -----------------------------------------------------------------------------------------------


def fixture() -> EcwidFixture:
    from bench.fuzz_targets import EcwidFixture

    return EcwidFixture(CLIENT_SECRET, STORE_ID, frozenset({"AMD", "USD"}))


Step = Callable[["Source"], str | None]
"""One execution: None when accepted, else the refusal's class; raises on a crash or a broken property."""
REFUSED = "InvalidPaymentRequest"  # the one way the Ecwid request's functions may refuse; anything else crashes


def fast_step(target: str, fx: EcwidFixture) -> Step:
    from bench.fuzz_targets import callback_case, check_callback_parsing, check_decrypt, check_parse, form_case
    from bench.fuzz_targets import token_case as make_token

    if target == "ecwid.decrypt":
        return lambda src: None if check_decrypt(make_token(src, fx, src.pick(("gcm", "cbc"))), fx.key) else REFUSED
    if target == "ecwid.parse":
        return lambda src: None if check_parse(form_case(src, fx, oversize=True), fx) else REFUSED
    return lambda src: None if check_callback_parsing(callback_case(src, CALLBACK_KEY), CALLBACK_KEY) else ""


def app_step(target: str, fx: EcwidFixture, ecwid: EcwidApp, callbacks: CallbackApp) -> Step:
    from bench.fuzz_targets import callback_case, form_case

    if target == "ecwid.app":
        return lambda src: ecwid.post(form_case(src, fx))
    return lambda src: callbacks.send(callback_case(src, CALLBACK_KEY))


def run_random(target: str, step: Step, count: int, seed: int) -> Tally:
    from bench.fuzz_targets import RandomSource

    tally = Tally(target, "random")
    started = time.perf_counter()
    for index in range(count):
        try:
            outcome = step(RandomSource(case_rng(seed, target, index)))
        except Exception as exc:  # the crash the loop looks for: counted, shown, and the loop goes on
            tally.fail(f"--replay {target}:{index}", exc)
        else:
            tally.record(outcome)
    tally.wall_s = time.perf_counter() - started
    return tally


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def plan(executions: int, app_share: float) -> dict[str, int]:
    app_total = min(executions, max(len(APP_TARGETS), math.ceil(executions * app_share)))
    counts = dict(zip(FAST_TARGETS, split(executions - app_total, len(FAST_TARGETS)), strict=True))
    counts.update(zip(APP_TARGETS, split(app_total, len(APP_TARGETS)), strict=True))
    return counts


def run_apps(counts: dict[str, int], seed: int, fx: EcwidFixture) -> list[Tally]:
    from bench.fuzz_targets import CallbackApp, EcwidApp

    with tempfile.TemporaryDirectory(prefix="vposlab-fuzz-") as folder, ExitStack() as stack:
        app, row_counts = build_app(Path(folder), stack)
        client = stack.enter_context(app.test_client())
        ecwid, callbacks = EcwidApp(client), CallbackApp(client, row_counts)
        return [run_random(t, app_step(t, fx, ecwid, callbacks), counts[t], seed) for t in APP_TARGETS]


# --- the atheris engine ----------------------------------------------------------------------------------------------


class AtherisSource:
    """Choices from atheris' ``FuzzedDataProvider``: libFuzzer's mutations steer the generators."""

    def __init__(self, provider: Any) -> None:
        self._fdp = provider

    def integer(self, low: int, high: int) -> int:
        return int(self._fdp.ConsumeIntInRange(low, high))

    def raw(self, max_size: int) -> bytes:
        return bytes(self._fdp.ConsumeBytes(self._fdp.ConsumeIntInRange(0, max_size)))

    def text(self, max_size: int, alphabet: str | None = None) -> str:
        size = self._fdp.ConsumeIntInRange(0, max_size)
        if alphabet is None:
            return str(self._fdp.ConsumeUnicodeNoSurrogates(size))
        return "".join(alphabet[i] for i in self._fdp.ConsumeIntListInRange(size, 0, len(alphabet) - 1))

    def pick(self, options: Sequence[T]) -> T:
        index: int = self._fdp.ConsumeIntInRange(0, len(options) - 1)
        return options[index]


def atheris_worker(target: str, runs: int, seed: int, stats_path: Path) -> None:
    """One fast target under atheris in this process (libFuzzer exits the process when the runs are done)."""
    import atexit

    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports(include=["gateway"]):
        import gateway.ecwid.payment_request
        import gateway.provider.checksum
        import gateway.web.guards  # noqa: F401  (instrumented before bench.fuzz_targets imports them)

    tally = Tally(target, "atheris")
    step = fast_step(target, fixture())
    started = time.perf_counter()
    crash_folder = stats_path.parent

    def one_input(data: bytes) -> None:
        try:
            outcome = step(AtherisSource(atheris.FuzzedDataProvider(data)))
        except Exception as exc:
            kept = crash_folder / f"crash-{target}-{tally.crashes + tally.violations}.bin"
            if tally.crashes + tally.violations < MAX_FAILURES_SHOWN:
                kept.write_bytes(data)
            tally.fail(f"--replay {target}:{kept}", exc)
        else:
            tally.record(outcome)

    def save() -> None:
        tally.wall_s = time.perf_counter() - started
        fields = {k: v for k, v in vars(tally).items() if k != "classes"}
        stats_path.write_text(json.dumps({**fields, "classes": sorted(tally.classes)}))

    atexit.register(save)
    atheris.Setup(
        [sys.argv[0], f"-atheris_runs={runs}", f"-seed={seed or 1}", "-max_len=8192", "-timeout=60"], one_input
    )
    atheris.Fuzz()


def run_atheris(target: str, runs: int, seed: int, workdir: Path) -> Tally:
    stats = workdir / f"{target}.json"
    command = [sys.executable, "-m", "bench.fuzz", "--atheris-worker", target, "--executions", str(runs)]
    command += ["--seed", str(seed), "--stats", str(stats)]
    root = Path(__file__).resolve().parent.parent
    with open(workdir / f"{target}.log", "w") as log:
        subprocess.run(command, cwd=root, stdout=log, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if not stats.exists():
        tally = Tally(target, "atheris", crashes=1)
        tally.failures.append(f"the atheris worker died: see {workdir / f'{target}.log'}")
        return tally
    data = json.loads(stats.read_text())
    classes = set(data.pop("classes"))
    return Tally(**data, classes=classes)


# --- the command -----------------------------------------------------------------------------------------------------


def table(tallies: Sequence[Tally]) -> str:
    header = ["target", "engine", "executions", "accepted", "refused", "crashes", "violations", "refusal classes"]
    header += ["exec/s", "wall s"]
    rows = [header]
    for t in [*tallies, total(tallies)]:
        rate = t.executions / t.wall_s if t.wall_s else 0.0
        classes = str(len(t.classes)) if t.classes else "-"
        rows.append([t.target, t.engine, f"{t.executions:,}", f"{t.accepted:,}", f"{t.refused:,}", str(t.crashes)])
        rows[-1] += [str(t.violations), classes, f"{rate:,.0f}", f"{t.wall_s:,.1f}"]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:  # names to the left, figures to the right
        cells = zip(row, widths, strict=True)
        return "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(cells))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(rows[0]), rule, *map(line, rows[1:-1]), rule, line(rows[-1])])


def total(tallies: Sequence[Tally]) -> Tally:
    result = Tally("total", "")
    for t in tallies:
        result.executions += t.executions
        result.accepted += t.accepted
        result.refused += t.refused
        result.crashes += t.crashes
        result.violations += t.violations
        result.wall_s += t.wall_s
    return result


def replay(spec: str, seed: int) -> int:
    """Run one case of a random run again, with its traceback."""
    from bench.fuzz_targets import CallbackApp, EcwidApp, RandomSource

    target, _, index = spec.partition(":")
    fx = fixture()
    with tempfile.TemporaryDirectory(prefix="vposlab-fuzz-") as folder, ExitStack() as stack:
        if target in APP_TARGETS:
            app, row_counts = build_app(Path(folder), stack)
            client = stack.enter_context(app.test_client())
            step: Step = app_step(target, fx, EcwidApp(client), CallbackApp(client, row_counts))
        elif target in FAST_TARGETS:
            step = fast_step(target, fx)
        else:
            raise SystemExit(f"unknown target {target!r}: one of {', '.join(FAST_TARGETS + APP_TARGETS)}")
        source: Source
        if Path(index).is_file():  # an input atheris kept
            import atheris

            source = AtherisSource(atheris.FuzzedDataProvider(Path(index).read_bytes()))
        else:
            source = RandomSource(case_rng(seed, target, int(index)))
        try:
            outcome = step(source)
        except Exception:
            traceback.print_exc()
            return 1
    print(f"{spec}: {outcome!r} (no failure)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=1_000_000, help="in total, over all targets")
    parser.add_argument("--app-share", type=float, default=0.02, help="share sent through the Flask app")
    parser.add_argument("--engine", choices=("random", "atheris"), default="random", help="for the fast targets")
    parser.add_argument("--seed", type=int, default=20250516)
    parser.add_argument(
        "--replay", metavar="TARGET:INDEX", help="rerun one case of a random run (or TARGET:FILE, an atheris input)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path("var/fuzz"), help="atheris' logs and crashing inputs (kept)"
    )
    parser.add_argument("--atheris-worker", metavar="TARGET", help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # the gateway logs every refusal; a 5xx is counted, not logged
    try:
        return run(args)
    finally:
        logging.disable(previous)


def run(args: argparse.Namespace) -> int:
    if args.atheris_worker:
        atheris_worker(args.atheris_worker, args.executions, args.seed, args.stats)
        return 0
    if args.replay:
        return replay(str(args.replay), args.seed)
    executions: int = args.executions
    counts = plan(executions, args.app_share)
    fx = fixture()
    started = time.perf_counter()
    print(f"fuzzing: {executions:,} executions, engine {args.engine} for the fast targets, seed {args.seed}")
    tallies: list[Tally] = []
    for target in FAST_TARGETS:
        if args.engine == "atheris":
            args.workdir.mkdir(parents=True, exist_ok=True)
            tallies.append(run_atheris(target, counts[target], args.seed, args.workdir.resolve()))
        else:
            tallies.append(run_random(target, fast_step(target, fx), counts[target], args.seed))
        print(f"  {target}: {tallies[-1].executions:,} in {tallies[-1].wall_s:,.1f} s", flush=True)
    tallies += run_apps(counts, args.seed, fx)
    print()
    print(table(tallies))
    print(f"\nwall time {time.perf_counter() - started:,.1f} s on {os.cpu_count()} CPUs")
    for tally in tallies:
        for failure in tally.failures:
            print(f"FAILURE {tally.target} {failure}")
    return 1 if any(t.crashes or t.violations for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
