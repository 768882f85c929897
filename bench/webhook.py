"""Benchmark the DingTalk and WeCom app callbacks under gunicorn against a bare one-INSERT endpoint.

    .venv/bin/python -m bench.webhook --db sqlite --seconds 10 --rate 200
    .venv/bin/python -m bench.webhook --db postgresql --seconds 10 --rate 200

Each server (the real app, then ``bench/bare_app.py``) runs as a gunicorn
subprocess on 127.0.0.1 with a fresh database (a temp SQLite file or a new
PostgreSQL schema, dropped afterwards). Two phases per server, each bounded
by ``--seconds``: a paced phase at ``--rate`` requests/s (latency p50/p99) and
a saturation phase (throughput). Payloads are signed/encrypted exactly as
the platforms do, built before the clock starts. The mix: DingTalk private
text 45 %, DingTalk group @ 20 %, WeCom app text 20 %, WeCom voice/image 5 %,
redeliveries 10 %. Outbound sends (after each response) go to a closed local
port and fail fast; the outbox keeps them, as in production with a dead network.

A callback only stores the message before answering; handling (classifier,
tickets, replies) follows in the web workers' inbox threads (``--inbox
thread``, the default setting) or in a separate ``flask inbox-worker``
process (``--inbox worker``, started by the bench next to gunicorn). After
each callback phase the bench waits until every stored message is handled
and reports how long that took ("handled +s"), so deferred work is counted,
not hidden.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LIANXIN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEAD = "http://127.0.0.1:9"  # nothing listens here: sends fail at once


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """Yield a database URL for one server (SQLite file or a fresh PostgreSQL schema)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}"
        return
    schema = f"lx_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(url: str) -> None:
    """Create the schema and a small school (code t1) in the real app's database."""
    sys.path.insert(0, str(ROOT))
    import models
    from models.db import make_engine, make_sessionmaker
    from tests.factories import build_school

    engine = make_engine(url)
    models.Base.metadata.create_all(engine)
    with make_sessionmaker(engine).begin() as session:
        build_school(session, dt.datetime.now(dt.UTC))
    engine.dispose()


@contextlib.contextmanager
def gunicorn(target: str, env: dict[str, str], workers: int, log: Path, threads: int = 1) -> Iterator[str]:
    """Run gunicorn on a free loopback port (its log in ``log``); yield its base URL.

    ``threads`` > 1 uses the gthread worker (the production command in README.md).
    """
    port = free_port()
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
           "--error-logfile", "-", target]
    if threads > 1:
        cmd[1:1] = ["-k", "gthread", "--threads", str(threads)]
    log_file = log.open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log.read_text(encoding='utf-8')[-2000:]}")
            time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start in 30 s")
        yield base
    finally:
        stop(proc, log_file)


@contextlib.contextmanager
def inbox_worker(env: dict[str, str], wanted: bool, log: Path) -> Iterator[None]:
    """Run ``flask inbox-worker`` (nice 10, as documented) while the block runs, if wanted."""
    if not wanted:
        yield
        return
    log_file = log.open("w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "inbox-worker"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        stop(proc, log_file)


def stop(proc: subprocess.Popen, log_file: Any) -> None:
    """Terminate a server process (kill it after 10 s) and close its log."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log_file.close()


def wait_handled(url: str, limit: float = 300.0) -> float:
    """Return seconds until no stored message is waiting to be handled (-1 past ``limit``)."""
    engine = create_engine(url)
    start = time.monotonic()
    try:
        with engine.connect() as conn:
            while time.monotonic() - start < limit:
                waiting = conn.execute(text("SELECT count(*) FROM inbound_messages WHERE status = 'new'")).scalar()
                conn.commit()
                if not waiting:
                    return time.monotonic() - start
                time.sleep(0.1)
    finally:
        engine.dispose()
    return -1.0


def real_requests(n: int, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Build n signed/encrypted requests (path, requests kwargs) in the documented mix."""
    from tests import payloads as p

    now = dt.datetime.now(dt.UTC)
    built: list[tuple[str, dict[str, Any]]] = []
    for i in range(n):
        roll = rng.random()
        if built and roll < 0.10:
            built.append(built[rng.randrange(len(built))])  # a platform redelivery
            continue
        if roll < 0.55:
            body = p.dingtalk_body(now, rng.choice([" 老师好，孩子今天发烧请假", " 帮助", " 食堂饭菜太咸了"]),
                                   staff_id=f"user{i % 300}", sessionWebhook=f"{DEAD}/session")
            built.append((f"/dingtalk/{p.SCHOOL}/callback", _ding(p, body, now)))
        elif roll < 0.75:
            body = p.dingtalk_body(now, " 校车几点到", group=True, staff_id=f"user{i % 300}",
                                   sessionWebhook=f"{DEAD}/session")
            built.append((f"/dingtalk/{p.SCHOOL}/callback", _ding(p, body, now)))
        elif roll < 0.95:
            built.append((f"/wecom/{p.SCHOOL}/app", _wecom(p, p.wecom_text(now, "明天开会吗", user=f"staff{i % 50}"), now)))
        else:
            plain = p.wecom_text(now, msgtype="voice", MediaId="m", Format="amr", Recognition="帮助", user="v1") \
                if rng.random() < 0.5 else p.wecom_text(now, msgtype="image", MediaId="m", PicUrl="http://x", user="v2")
            built.append((f"/wecom/{p.SCHOOL}/app", _wecom(p, plain, now)))
    return built


def _ding(p: Any, body: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    kw = p.dingtalk_request(body, now)
    return {"data": kw["data"], "headers": {**kw["headers"], "Content-Type": "application/json"}}


def _wecom(p: Any, plain: str, now: dt.datetime) -> dict[str, Any]:
    kw = p.wecom_post(plain, now)
    return {"params": kw["query_string"], "data": kw["data"], "headers": {"Content-Type": "text/xml"}}


def load(base: str, reqs: list[tuple[str, dict[str, Any]]], seconds: float, rate: float, threads: int) -> dict[str, Any]:
    """Send requests for ``seconds`` (paced at ``rate``/s, or as fast as possible when 0)."""
    latencies: list[float] = []
    errors: dict[int | str, int] = {}
    lock = threading.Lock()
    counter = iter(range(10**9))
    start = time.monotonic()
    stop = start + seconds

    def worker() -> None:
        session = requests.Session()
        while True:
            i = next(counter)
            slot = start + i / rate if rate else time.monotonic()
            if slot >= stop or time.monotonic() >= stop:  # bounded even when the server lags
                return
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            path, kw = reqs[i % len(reqs)]
            t0 = time.monotonic()
            try:
                status = session.post(base + path, timeout=10, **kw).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            elapsed = time.monotonic() - t0
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    errors[status] = errors.get(status, 0) + 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - start
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    behind = int(seconds * rate) - len(latencies) - sum(errors.values()) if rate else 0
    if behind > 0:
        errors["not sent (server behind)"] = behind
    return {"ok": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000}


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Benchmark both servers; return their figures."""
    sys.path.insert(0, str(ROOT))
    from tests import payloads as p

    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="lianxin-bench-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        creds = {k: v for k, v in p.CREDENTIALS[p.SCHOOL].items() if k in ("dingtalk", "wecom")}
        instance = tmp / "instance"
        instance.mkdir()
        (instance / "settings.yaml").write_text(
            "platforms:\n  t1:\n"
            f"    dingtalk: {{app_key: {creds['dingtalk']['app_key']}, robot_code: {p.ROBOT_CODE}}}\n"
            f"    wecom: {{corp_id: {p.CORP_ID}, agent_id: '1000002'}}\n", encoding="utf-8")
        secrets_env = {
            "LIANXIN_T1_DINGTALK_APP_SECRET": p.DINGTALK_SECRET, "LIANXIN_T1_WECOM_TOKEN": p.TOKEN,
            "LIANXIN_T1_WECOM_AES_KEY": p.AES_KEY, "LIANXIN_T1_WECOM_SECRET": "bench",
        }
        with database(args.db, tmp) as url:
            seed(url)
            env = {"LIANXIN_DATABASE_URL": url, "LIANXIN_APP_INSTANCE_PATH": str(instance),
                   "LIANXIN_APP_SECRET_KEY": "bench-secret-key-0123456789", "LIANXIN_APP_LOG_LEVEL": "WARNING",
                   "LIANXIN_PLATFORM_API_DINGTALK_API": DEAD, "LIANXIN_PLATFORM_API_DINGTALK_OAPI": DEAD,
                   "LIANXIN_PLATFORM_API_WECOM_API": DEAD + "/cgi-bin/", "LIANXIN_PLATFORM_API_TIMEOUT_SECONDS": "1",
                   **secrets_env}
            reqs = real_requests(max(int(args.rate * args.seconds * 3), 2000), rng)
            if args.inbox == "worker":
                env["LIANXIN_APP_INBOX"] = "worker"
            with gunicorn("app:create_app()", env, args.workers, tmp / "callback.log", args.worker_threads) as base, \
                    inbox_worker(env, args.inbox == "worker", tmp / "worker.log"):
                results["callback"] = {}
                for phase, rate in (("paced", args.rate), ("max", 0)):
                    results["callback"][phase] = figures = load(base, reqs, args.seconds, rate, args.threads)
                    figures["handled_after_s"] = wait_handled(url)
        with database(args.db, tmp) as url:
            from bench.bare_app import metadata
            from models.db import make_engine

            engine = make_engine(url)
            metadata.create_all(engine)  # once, not racing in every worker
            engine.dispose()
            bare = [("/insert", {"data": kw.get("data", b"")}) for _, kw in reqs]
            with gunicorn("bench.bare_app:create()", {"BENCH_DATABASE_URL": url}, args.workers, tmp / "bare.log",
                          args.worker_threads) as base:
                results["bare"] = {"paced": load(base, bare, args.seconds, args.rate, args.threads),
                                   "max": load(base, bare, args.seconds, 0, args.threads)}
    finally:
        for name in ("callback.log", "bare.log"):
            path = tmp / name
            if args.show_logs and path.exists():
                print(f"--- {name} (last 3000 chars)\n{path.read_text(encoding='utf-8')[-3000:]}")
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> str:
    lines = [f"db={args.db} inbox={args.inbox} seconds={args.seconds} rate={args.rate}/s "
             f"gunicorn workers={args.workers} "
             f"threads/worker={args.worker_threads} "
             f"client threads={args.threads}",
             f"{'server':10} {'phase':6} {'ok':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'handled +s':>10}  errors"]
    for name, phases in results.items():
        for phase, r in phases.items():
            after = r.get("handled_after_s")
            handled = "-" if after is None else ("> 300" if after < 0 else f"{after:.1f}")
            lines.append(f"{name:10} {phase:6} {r['ok']:6d} {r['rps']:8.1f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
                         f"{handled:>10}  {r['errors'] or ''}")
    ratio = results["callback"]["max"]["rps"] / max(results["bare"]["max"]["rps"], 1e-9)
    lines.append(f"callback / bare-insert max throughput: {ratio:.0%}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--rate", type=float, default=200.0, help="paced phase requests per second")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn worker processes (default 4; 1 on SQLite, see docs/platforms.md)")
    parser.add_argument("--worker-threads", type=int, default=4,
                        help="gunicorn threads per worker (gthread; 1 = sync workers)")
    parser.add_argument("--threads", type=int, default=16, help="client threads")
    parser.add_argument("--inbox", choices=("thread", "worker"), default="thread",
                        help="who handles stored messages: the web workers' inbox threads or an inbox-worker process")
    parser.add_argument("--show-logs", action="store_true", help="print the end of the gunicorn logs")
    args = parser.parse_args()
    if args.workers is None:
        args.workers = 1 if args.db == "sqlite" else 4
    print(report(args, run(args)))


if __name__ == "__main__":
    main()
