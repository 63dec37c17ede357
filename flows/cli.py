"""`newsetl`: run the flow, query the warehouse.

Prefect is imported only by the commands that run a flow, so `newsetl query` starts in
a fraction of a second.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from wcwidth import wcswidth

DEFAULT_INBOX = "seeds"
DEFAULT_DB = "warehouse/news.duckdb"


def _quiet_prefect_env(verbose: bool) -> None:
    """Settings that must be in place before Prefect is imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


@contextlib.contextmanager
def _stderr_to_log(enabled: bool) -> Iterator[Path | None]:
    """Send fd 2 (ours and the embedded server's) to a log file while the flow runs."""
    if not enabled:
        yield None
        return
    log = Path(tempfile.gettempdir()) / f"newsetl-{os.getpid()}.log"
    saved = os.dup(2)
    with log.open("wb") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield log
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def cmd_run(args: argparse.Namespace) -> int:
    _quiet_prefect_env(args.verbose)
    from flows import prefect_api

    with _stderr_to_log(not args.verbose) as log, prefect_api.api_for_run() as server:
        try:
            # Imported while the local Prefect server (if any) boots in its own process.
            from flows import runners
            from flows.ingest import ingest_news

            choice = runners.choose(args.runner, args.workers, args.dask_address, args.inbox)
            flow = ingest_news.with_options(task_runner=runners.build(choice))
            if server is not None:
                server.wait_ready(prefect_api.startup_timeout())
            with prefect_api.without_heartbeats():
                summary = flow(inbox=args.inbox, db=args.db)
            error = None
        except Exception as exc:  # the run failed: one line, the details stay in the log
            summary, error = None, exc
    if error is not None:
        where = f" (details: {log})" if log else ""
        print(f"newsetl run failed: {type(error).__name__}: {error}{where}", file=sys.stderr)
        return 1
    if log:
        log.unlink(missing_ok=True)
    print(summary.text())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    # Run logs go to the server at INFO: they are what the UI shows for each run.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    _quiet_prefect_env(verbose=True)
    from flows import runners, serve

    try:
        choice = runners.choose(args.runner, args.workers, args.dask_address, args.inbox)
        serve.api_url()
        deployment = serve.deployment(args.inbox, args.db, args.cron, args.interval, choice)
    except (ValueError, serve.ServeError) as exc:
        print(f"newsetl serve: {exc}", file=sys.stderr)
        return 2
    serve.serve_forever(deployment)
    return 0


def _add_runner_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runner",
        choices=("auto", "thread", "process", "dask"),
        default="auto",
        help="task runner of the per-file stages (default auto: threads for small inboxes, processes for large)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="threads/processes/Dask workers (default: cores)"
    )
    parser.add_argument("--dask-address", default=None, help="scheduler address of a running Dask cluster")


def format_table(columns: Sequence[str], rows: Sequence[Sequence[object]], max_width: int = 60) -> str:
    """A plain-text table aligned by display width (a Han character takes two cells)."""

    def cell(value: object) -> str:
        text = "NULL" if value is None else str(value).replace("\n", "⏎")
        if wcswidth(text) > max_width:
            while wcswidth(text) > max_width - 1:
                text = text[:-1]
            text += "…"
        return text

    cells = [[cell(c) for c in columns]] + [[cell(v) for v in row] for row in rows]
    widths = [max(wcswidth(r[i]) for r in cells) for i in range(len(columns))]

    def line(r: list[str]) -> str:
        return "  ".join(v + " " * (w - wcswidth(v)) for v, w in zip(r, widths, strict=True)).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


EXPORT_FORMATS = (".csv", ".parquet")


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.db import WarehouseBusy, connect

    statement = args.sql
    if statement.endswith(".sql") and Path(statement).is_file():  # a saved query, e.g. warehouse/queries/
        statement = Path(statement).read_text(encoding="utf-8")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in EXPORT_FORMATS:
        wanted = " or ".join(EXPORT_FORMATS)
        print(f"newsetl query: --out must end in {wanted}, not {out.name}", file=sys.stderr)
        return 2
    try:
        with connect(args.db, read_only=True) as con:
            relation = con.sql(statement)
            if relation is None:  # a statement without a result set (SET, PRAGMA ...)
                print("OK")
                return 0
            data = relation.to_arrow_table()
            if out is not None:
                _export(con.from_arrow(data), out)
                print(f"{data.num_rows} rows written to {out}")
                return 0
            columns, rows = data.column_names, [tuple(r.values()) for r in data.to_pylist()]
    except (WarehouseBusy, FileNotFoundError) as exc:
        print(f"newsetl query: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if "read-only" in message.lower():
            message = "the warehouse is opened read-only here; write statements are refused"
        print(f"newsetl query: {message}", file=sys.stderr)
        return 2
    print(format_table(columns, rows))
    return 0


def _export(relation, out: Path) -> None:
    """CSV (with a header) or Parquet, by the file's extension; DuckDB writes lists too."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        relation.write_csv(str(out), header=True)
    else:
        relation.write_parquet(str(out))


def cmd_search(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.db import WarehouseBusy, connect
    from warehouse.search import search

    try:
        with connect(args.db, read_only=True) as con:
            hits = search(con, args.query, args.limit)
    except duckdb.CatalogException:  # a warehouse loaded before search existed
        print(
            "newsetl search: this warehouse has no search macro yet: run `newsetl run` once", file=sys.stderr
        )
        return 2
    except (WarehouseBusy, FileNotFoundError, duckdb.Error) as exc:
        print(f"newsetl search: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    if not hits:
        print(f"no article matches {args.query!r}")
        return 1
    for rank, hit in enumerate(hits, 1):
        head = f"{rank}. {hit.title or '(untitled)'}  [{hit.day or 'undated'}]"
        print(f"{head}  score {hit.score:.2f}  {hit.article_id}")
        print(f"   {hit.snippet}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsetl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="load new files from the inbox into the warehouse (one flow run)")
    run.add_argument("--inbox", default=DEFAULT_INBOX, help=f"folder of pages (default {DEFAULT_INBOX})")
    run.add_argument("--db", default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")
    run.add_argument("--verbose", action="store_true", help="show Prefect's logs")
    _add_runner_options(run)
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="serve a scheduled deployment of the flow to a Prefect server")
    when = serve.add_mutually_exclusive_group()
    when.add_argument("--cron", default=None, help='cron schedule, e.g. "*/15 * * * *"')
    when.add_argument("--interval", type=float, default=None, help="seconds between runs (default 300)")
    serve.add_argument("--inbox", default=DEFAULT_INBOX, help=f"folder of pages (default {DEFAULT_INBOX})")
    serve.add_argument("--db", default=DEFAULT_DB, help=f"DuckDB file (default {DEFAULT_DB})")
    _add_runner_options(serve)
    serve.set_defaults(func=cmd_serve)

    query = sub.add_parser("query", help="run read-only SQL against the warehouse")
    query.add_argument("sql", help="a SQL statement, or a .sql file holding one")
    query.add_argument("--db", default=DEFAULT_DB)
    query.add_argument("--out", default=None, help="write the result to FILE.csv or FILE.parquet instead")
    query.set_defaults(func=cmd_query)

    find = sub.add_parser("search", help="full-text search of the articles (BM25 over jieba words)")
    find.add_argument("query", help="words to look for, e.g. 马拉松")
    find.add_argument("--limit", type=int, default=10, help="how many articles (default 10)")
    find.add_argument("--db", default=DEFAULT_DB)
    find.set_defaults(func=cmd_search)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
