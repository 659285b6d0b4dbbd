"""Prints the SQL queries per request of each benchmark target, as JSON on one line.

`python -m benchmarks.count_queries '{"target": [["/path/", ...], ["Header: value", ...]]}' --requests 50`, with the same
environment as the server the target runs on. Requests go through Django's test client (the
whole middleware stack, in this process); each path is requested once before counting, so a
cached target is counted on cache hits and an uncached one in its steady state. Django's
connection health check (CONN_HEALTH_CHECKS: one SELECT 1 per request that uses the
database) runs outside the cursor and is not counted.
"""

from __future__ import annotations

import argparse
import json

import django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("targets", type=json.loads)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    per_request = {}
    for key, (paths, header_lines) in args.targets.items():
        headers = dict(line.split(": ", 1) for line in header_lines)
        paths = [paths[number % len(paths)] for number in range(args.requests)]
        for path in dict.fromkeys(paths):
            _get(client, path, headers)
        with CaptureQueriesContext(connection) as queries:
            for path in paths:
                _get(client, path, headers)
        per_request[key] = len(queries) / len(paths)
    print(json.dumps(per_request))


def _get(client, path: str, headers: dict[str, str]) -> None:
    response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code}")


if __name__ == "__main__":
    main()
