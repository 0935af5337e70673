"""`python -m xlcredit.service --db URL [--host 127.0.0.1] [--port 8000] [--cors-origin ORIGIN ...]`: run the HTTP
service (= xlcredit serve)."""

from __future__ import annotations

import argparse
import os
import sys

from xlcredit.core.errors import XlcError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xlcredit.service", description=__doc__)
    ap.add_argument("--db", help="credit database: file, workbook (→ the .credit.db beside it) or URL "
                                 "(default: $XLCREDIT_DB)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--policy", help="policy TOML used while the database holds no policy of its own")
    ap.add_argument("--max-rows", type=int)
    ap.add_argument("--max-body-mb", type=float)
    ap.add_argument("--max-upload-mb", type=float)
    ap.add_argument("--timeout", type=float, help="seconds before a request is answered 503")
    ap.add_argument("--letters-dir", help="folder where POST /v1/letters keeps the letters "
                                          "(default: letters beside a SQLite database)")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--max-requests", type=int, help="requests worked on at once per worker (default 64)")
    ap.add_argument("--queue-seconds", type=float, help="seconds a request waits for a place before a JSON 503 "
                                                        "with Retry-After (default 2)")
    ap.add_argument("--cors-origin", action="append", metavar="ORIGIN",
                    help="a browser origin allowed to call the service (repeatable; default: $XLCREDIT_CORS_ORIGINS, "
                         "several separated by spaces). xlwings Lite: https://addin.xlwings.org")
    ap.add_argument("--log-level", default="info")
    args = ap.parse_args(argv)
    # as `xlcredit serve`: the options given, else the environment's list
    origins = args.cors_origin or os.environ.get("XLCREDIT_CORS_ORIGINS", "").split()
    from xlcredit.io.policy_file import load_policy
    from xlcredit.service.server import serve

    try:
        policy = load_policy(args.policy) if args.policy else None
        serve(args.db, args.host, args.port, policy=policy, max_rows=args.max_rows, max_body_mb=args.max_body_mb,
              max_upload_mb=args.max_upload_mb, timeout=args.timeout, letters_dir=args.letters_dir,
              log_level=args.log_level, workers=args.workers, max_requests=args.max_requests,
              queue_seconds=args.queue_seconds, cors_origin=tuple(origins))
    except XlcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
