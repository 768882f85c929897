"""Benchmark the web console's 总览 and filtered 台账 pages against a trivial page, server time, p95.

Fills a PostgreSQL schema of its own (dropped afterwards) with the district of
``bench/sweeps.py`` times ``--scale`` (default 0.005: 2 schools, 5,000
tickets; ``--scale 1`` is the 100-school / 1,000,000-ticket district), logs a
principal in through a one-time link and requests each page ``--rounds``
times in-process (Flask test client: server time, no network). The baseline
is ``/healthz`` (one ``SELECT 1``) measured in the same run; the ratio is what
to compare between machines.

    .venv/bin/python bench/console.py
    .venv/bin/python bench/console.py --scale 1 --rounds 50
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import sweeps

SCHEMA = "lx_bench_console"
PAGES = {
    "baseline /healthz": "/healthz",
    "总览 /console/": "/console/",
    "台账 open, food": "/console/tickets?state=open&category=food",
    "台账 search text": "/console/tickets?q=问题描述12",
    "台账 page 5": "/console/tickets?state=closed&page=5",
}


def p95(samples: list[float]) -> float:
    """Return the 95th percentile."""
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.005, help="1.0 = 100 schools, 1M tickets")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards (for EXPLAIN ANALYZE)")
    parser.add_argument("--reuse", action="store_true", help="measure the kept schema instead of building one")
    args = parser.parse_args()
    from app import create_app, lianxin
    from models import console_login
    from models.directory import Staff

    sweeps.SCHEMA = SCHEMA
    url = make_url(sweeps.PG_URL).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    engine = create_engine(url)
    try:
        if not args.reuse:
            t0 = time.perf_counter()
            sizes = sweeps.build(engine, args.scale)
            with engine.begin() as conn:  # the fill inserts explicit ids: move the sequences past them
                for table in ("schools", "staff", "classes", "students", "tickets"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT max(id) FROM {table}))"))
            print(f"scale {args.scale}: {sizes} built in {time.perf_counter() - t0:.1f} s", flush=True)
        app = create_app({"app": {"secret_key": "bench-secret-key-0123456789"},
                          "database": {"url": url.render_as_string(hide_password=False)}})
        ext = lianxin(app)
        ext.clock = lambda: sweeps.NOW
        with ext.sessionmaker() as session:
            link = console_login.create_link(session, session.get(Staff, 1), ext.settings, sweeps.NOW)  # a principal
            session.commit()
        client = app.test_client()
        assert client.post("/" + link.split("/", 3)[3]).status_code == 302
        results: dict[str, float] = {}
        medians: dict[str, float] = {}
        for label, path in PAGES.items():
            assert client.get(path).status_code == 200, path  # warm-up (and a check)
            samples = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                response = client.get(path)
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200
            results[label], medians[label] = p95(samples), statistics.median(samples)
        base = results["baseline /healthz"]
        print(f"{'page':<22} {'median ms':>10} {'p95 ms':>9} {'p95 × baseline':>15}")
        for label, value in results.items():
            print(f"{label:<22} {medians[label] * 1000:10.1f} {value * 1000:9.1f} {value / base:15.1f}")
    finally:
        if not args.keep:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
