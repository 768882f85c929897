"""Fault suite: messages under kill -9 and platform outages; count what was lost or doubled.

    .venv/bin/python -m bench.faults --messages 10000 --rate 150

Runs, on 127.0.0.1 only and for a bounded time, what production runs
(README "Production"): gunicorn (``-c config/gunicorn.conf.py``) with
``app.inbox: worker``, one ``flask inbox-worker`` and one ``flask scheduler``,
on a fresh PostgreSQL schema, with a fake DingTalk API in this process.
It sends ``--messages`` signed DingTalk callbacks (new strangers, who are
asked to bind, and five bound parents, whose complaints become tickets); a
callback that gets no 200 is delivered again, up to three times in all, as
DingTalk does, and one in ten is delivered again even after its 200 (a lost
ack). Meanwhile a chaos thread, at random moments, kill -9s a gunicorn
worker, the inbox worker or the scheduler (restarting the latter two as a
supervisor would) and makes the fake platform answer 500 or hang.

Then it waits until nothing is left to handle or send and prints: messages
acknowledged, stored, handled; lost (acknowledged but never handled); tickets
and duplicated tickets (two tickets from one message); outbox rows sent,
waiting, failed; duplicated deliveries (the same reply delivered twice: the
outbox is at-least-once); and the time to drain. The recipe and figures are
in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.webhook import ROOT, database, gunicorn, stop

PARENTS = {"mom-zhang": ("张小明", "1234"), "dad-zhang": ("张小明", "5678"), "mom-chen": ("陈大宝", "2222")}
COMPLAINTS = ("食堂的饭菜太咸了，孩子吃不下，希望学校改进", "放学时校门口车太多很危险，希望安排老师疏导",
              "作业太多了孩子每天写到十一点，希望减负", "教室空调坏了一周还没修，孩子很热")


def seed(url: str) -> None:
    """Create the schema, the test school, and bind the parents' DingTalk identities."""
    sys.path.insert(0, str(ROOT))
    import models
    from models import people
    from models.db import make_engine, make_sessionmaker
    from tests.factories import build_school

    engine = make_engine(url)
    models.Base.metadata.create_all(engine)
    now = dt.datetime.now(dt.UTC)
    with make_sessionmaker(engine).begin() as session:
        school = build_school(session, now).school
        session.flush()
        for staff_id, (student, last4) in PARENTS.items():
            identity = people.touch_identity(session, "dingtalk", school.id, staff_id, staff_id, now)
            outcome = people.bind(session, identity, student, last4, relation=None, now=now, max_failures=5,
                                  lock_minutes=60)
            assert outcome.status == "bound", outcome
    engine.dispose()


class Platform:
    """The fake DingTalk API: records each reply actually delivered, fails on demand."""

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.fakes.dingtalk import FakeDingTalk

        outer = self

        class Recording(FakeDingTalk):
            def batch_send(self, call: Any) -> Any:
                import json

                content = json.loads(call.json.get("msgParam") or "{}").get("content", "")
                with outer.lock:
                    for user in call.json.get("userIds") or []:
                        outer.delivered[(user, content)] += 1
                return super().batch_send(call)

        self.fake = Recording()
        self.lock = threading.Lock()
        self.delivered: collections.Counter[tuple[str, str]] = collections.Counter()

    def outage(self, rng: random.Random) -> str:
        """Make the next calls fail: HTTP 500 for a burst, or hang past the client timeout."""
        if rng.random() < 0.5:
            self.fake.fail_next(rng.randint(20, 80), status=500, path="batchSend")
            return "platform 500"
        self.fake.fail_next(rng.randint(3, 10), delay=3.0, path="batchSend")
        return "platform hang"


class Processes:
    """The inbox worker and the scheduler, restarted after a kill as a supervisor would."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp = env, tmp
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Any] = {}

    def start(self, name: str) -> None:
        command = {"inbox-worker": ["inbox-worker", "--poll", "0.1"], "scheduler": ["scheduler"]}[name]
        log = self.logs.setdefault(name, (self.tmp / f"{name}.log").open("a", encoding="utf-8"))
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *command], cwd=ROOT,
                                            env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.start(name)

    def close(self) -> None:
        for name, proc in self.procs.items():
            stop(proc, self.logs[name])


def gunicorn_workers(master_port: int) -> list[int]:
    """Return the pids of the gunicorn workers serving ``master_port`` (children of its master)."""
    masters = [pid for pid, cmd in _processes() if "gunicorn" in cmd and f"127.0.0.1:{master_port}" in cmd]
    children = []
    for pid, _ in _processes():
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) in masters:
                children.append(pid)
    return children


def _processes() -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
    return found


def messages(n: int, rng: random.Random, now: dt.datetime) -> list[dict[str, Any]]:
    """Build n callback bodies: 80 % new strangers, 20 % bound parents with complaints."""
    from tests import payloads as p

    bodies = []
    for i in range(n):
        if rng.random() < 0.2:
            parent = rng.choice(list(PARENTS))
            text = f"{rng.choice(COMPLAINTS)}（第{i}条）"
            bodies.append(p.dingtalk_body(now, " " + text, staff_id=parent, msg_id=f"fault-{i}", sessionWebhook=""))
        else:
            bodies.append(p.dingtalk_body(now, " 老师好", staff_id=f"stranger-{i}", msg_id=f"fault-{i}",
                                          sessionWebhook=""))
    return bodies


def send_all(base: str, bodies: list[dict[str, Any]], rate: float, threads: int, rng: random.Random
             ) -> dict[str, Any]:
    """Deliver every body, paced; retry up to three times in all until a 200; redeliver 10 % after it."""
    from tests import payloads as p

    acked: set[str] = set()
    attempts = collections.Counter()
    failures: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    order = iter(range(len(bodies)))
    again = {i for i in range(len(bodies)) if rng.random() < 0.1}
    start = time.monotonic()

    def post(session: requests.Session, body: dict[str, Any]) -> bool:
        kw = p.dingtalk_request(body, dt.datetime.now(dt.UTC))
        try:
            status = session.post(f"{base}/dingtalk/{p.SCHOOL}/callback", data=kw["data"], timeout=5,
                                  headers={**kw["headers"], "Content-Type": "application/json"}).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        with lock:
            attempts[body["msgId"]] += 1
            if status != 200:
                failures[str(status)] += 1
        return status == 200

    def worker() -> None:
        session = requests.Session()
        for i in order:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = bodies[i]
            for _ in range(3):
                if post(session, body):
                    with lock:
                        acked.add(body["msgId"])
                    if i in again:
                        post(session, body)  # DingTalk did not see our 200: the same message again
                    break
                time.sleep(0.5)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"acked": acked, "deliveries": sum(attempts.values()), "failures": dict(failures),
            "seconds": time.monotonic() - start}


def chaos(stop_event: threading.Event, rng: random.Random, port: int, procs: Processes, platform: Platform,
          every: float, log: list[str]) -> None:
    """Until stopped: every ``every`` s (jittered) kill a process or break the platform."""
    while not stop_event.wait(rng.uniform(every * 0.5, every * 1.5)):
        action = rng.choice(["web", "inbox-worker", "scheduler", "platform"])
        if action == "web":
            workers = gunicorn_workers(port)
            if workers:
                os.kill(rng.choice(workers), signal.SIGKILL)  # the gunicorn master starts a new one
        elif action == "platform":
            action = platform.outage(rng)
        else:
            procs.kill(action)
        log.append(f"{time.monotonic():.1f} {action}")


def wait_drained(url: str, limit: float) -> float:
    """Return seconds until nothing waits to be handled or sent (-1 past ``limit``)."""
    engine = create_engine(url)
    start = time.monotonic()
    try:
        with engine.connect() as conn:
            while time.monotonic() - start < limit:
                left = conn.execute(text(
                    "SELECT (SELECT count(*) FROM inbound_messages WHERE status IN ('new', 'processing')) + "
                    "(SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending'))")).scalar()
                conn.commit()
                if not left:
                    return time.monotonic() - start
                time.sleep(1)
    finally:
        engine.dispose()
    return -1.0


def tally(url: str, sent: dict[str, Any], platform: Platform) -> dict[str, Any]:
    """Count what the database and the platform say happened."""
    engine = create_engine(url)
    with engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).scalar()  # noqa: E731
        handled = {r[0] for r in conn.execute(text(
            "SELECT platform_msg_id FROM inbound_messages WHERE status = 'processed'"))}
        rows = collections.Counter((a, t) for a, t in conn.execute(text(
            "SELECT address, text FROM outbox WHERE platform = 'dingtalk' AND status = 'sent'")))
        figures = {
            "stored": q("SELECT count(*) FROM inbound_messages"),
            "handled": len(handled),
            "failed_handling": q("SELECT count(*) FROM inbound_messages WHERE status = 'failed'"),
            "lost": len(sent["acked"] - handled),
            "tickets": q("SELECT count(*) FROM tickets"),
            "duplicated_tickets": q("SELECT count(*) FROM (SELECT source_inbound_id FROM tickets WHERE "
                                    "source_inbound_id IS NOT NULL GROUP BY source_inbound_id "
                                    "HAVING count(*) > 1) d"),
            "outbox": dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all()),
        }
    engine.dispose()
    with platform.lock:
        delivered = dict(platform.delivered)
    figures["replies_delivered"] = sum(min(delivered.get(key, 0), n) for key, n in rows.items())
    figures["replies_not_delivered"] = sum(max(n - delivered.get(key, 0), 0) for key, n in rows.items())
    figures["duplicated_deliveries"] = sum(max(delivered.get(key, 0) - n, 0) for key, n in rows.items())
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the suite once; return its figures."""
    sys.path.insert(0, str(ROOT))
    from tests import payloads as p
    from tests.fakes.server import serving

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake platform's request log
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="lianxin-faults-"))
    platform = Platform()
    result: dict[str, Any] = {}
    try:
        instance = tmp / "instance"
        instance.mkdir()
        (instance / "settings.yaml").write_text(
            "platforms:\n  t1:\n"
            f"    dingtalk: {{app_key: dingappkey, robot_code: {p.ROBOT_CODE}}}\n", encoding="utf-8")
        with database("postgresql", tmp) as url, serving(platform.fake) as fake:
            seed(url)
            env = {"LIANXIN_DATABASE_URL": url, "LIANXIN_APP_INSTANCE_PATH": str(instance),
                   "LIANXIN_APP_SECRET_KEY": "fault-suite-secret-0123456789", "LIANXIN_APP_LOG_LEVEL": "WARNING",
                   "LIANXIN_APP_INBOX": "worker", "LIANXIN_T1_DINGTALK_APP_SECRET": p.DINGTALK_SECRET,
                   "LIANXIN_PLATFORM_API_DINGTALK_API": fake.url, "LIANXIN_PLATFORM_API_DINGTALK_OAPI": fake.url,
                   "LIANXIN_PLATFORM_API_TIMEOUT_SECONDS": "2",
                   # Faster than production so that the suite ends in minutes; the logic is the same.
                   "LIANXIN_SCHEDULER_DRAIN_SECONDS": "2", "LIANXIN_OUTBOX_STUCK_MINUTES": "1",
                   "LIANXIN_OUTBOX_MAX_ATTEMPTS": "12"}
            bodies = messages(args.messages, rng, dt.datetime.now(dt.UTC))
            procs = Processes(env, tmp)
            with gunicorn_on(env, args.workers, tmp) as (base, port):
                procs.start("inbox-worker")
                procs.start("scheduler")
                stop_event, events = threading.Event(), []
                monkey = threading.Thread(target=chaos, args=(stop_event, rng, port, procs, platform, args.every,
                                                              events))
                monkey.start()
                try:
                    sent = send_all(base, bodies, args.rate, args.threads, rng)
                finally:
                    stop_event.set()
                    monkey.join()
                drained = wait_drained(url, args.drain_limit)
                procs.close()
            result = {"messages": args.messages, "acked": len(sent["acked"]), "deliveries": sent["deliveries"],
                      "non_200": sent["failures"], "send_seconds": sent["seconds"], "drain_seconds": drained,
                      "chaos": collections.Counter(e.split(" ", 1)[1] for e in events),
                      **tally(url, sent, platform)}
    finally:
        if args.show_logs:
            for log in sorted(tmp.glob("*.log")):
                print(f"--- {log.name} (last 2000 chars)\n{log.read_text(encoding='utf-8')[-2000:]}")
        shutil.rmtree(tmp, ignore_errors=True)
    return result


@contextlib.contextmanager
def gunicorn_on(env: dict[str, str], workers: int, tmp: Path):
    """Start gunicorn as in production; yield its base URL and port."""
    with gunicorn("app:create_app()", env, workers, tmp / "web.log", threads=4) as base:
        yield base, int(base.rsplit(":", 1)[1])


def report(r: dict[str, Any]) -> str:
    drained = "not within the limit" if r["drain_seconds"] < 0 else f"{r['drain_seconds']:.0f} s"
    return "\n".join([
        f"messages {r['messages']}, callbacks delivered {r['deliveries']} (non-200: {r['non_200'] or 'none'}), "
        f"sent in {r['send_seconds']:.0f} s",
        f"chaos: {dict(r['chaos'])}",
        f"acknowledged {r['acked']}  stored {r['stored']}  handled {r['handled']}  "
        f"handling failed {r['failed_handling']}  LOST {r['lost']}",
        f"tickets {r['tickets']}  DUPLICATED TICKETS {r['duplicated_tickets']}",
        f"outbox rows {r['outbox']}  delivered {r['replies_delivered']}  "
        f"not delivered {r['replies_not_delivered']}  duplicated deliveries {r['duplicated_deliveries']}",
        f"time to drain after the last message: {drained}",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=150.0, help="new messages per second")
    parser.add_argument("--threads", type=int, default=12, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (4 threads each)")
    parser.add_argument("--every", type=float, default=6.0, help="mean seconds between chaos events")
    parser.add_argument("--drain-limit", type=float, default=900.0, help="give up waiting after this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-logs", action="store_true")
    args = parser.parse_args()
    print(report(run(args)))


if __name__ == "__main__":
    main()
