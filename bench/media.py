"""Benchmark keeping a phone photo, and the webhook's answer time when messages carry media.

    .venv/bin/python -m bench.media                     # sniff + clean + store a 5 MB photo
    .venv/bin/python -m bench.media --webhook --seconds 10 --rate 200   # p99 text-only vs with media

Part 1 runs on one core (CPU affinity 0 where the OS allows it): a ~5 MB
12-megapixel JPEG with camera EXIF and a GPS position, plus a phone's second
(MPF) picture after its end, is sniffed, cleaned (``models.media_safety``)
and stored content-addressed (``models.media``: the folder store, and the
database store on a SQLite file). The baseline, measured in the same run, is
writing the same bytes to a file plainly (and hashing them): the ratio says
what keeping a photo safely costs beyond storing it at all.

Part 2 starts the real app under gunicorn (``bench.webhook``'s harness) and
sends two paced phases at ``--rate``: text messages only, then the same mix
with 40 % pictures and files (WeCom app image/file, DingTalk picture). The
platforms' download APIs point at a closed port: downloads happen in the inbox
worker after the answer and fail fast there, so the phase shows what media
costs the answer path (nothing is downloaded in it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def phone_photo(target_bytes: int = 5_000_000) -> bytes:
    """Return a 4032x3024 JPEG of about ``target_bytes`` with Make/Model/GPS EXIF and an MPF-like trailer."""
    from PIL import Image

    width, height = 4032, 3024
    rng = random.Random(3)
    # Smooth gradients plus noise compress like a real photo (neither flat nor random).
    base = Image.linear_gradient("L").resize((width, height))
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    image = Image.merge("RGB", (base, Image.blend(base, noise, 0.35), noise.rotate(90).resize((width, height))))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "PhoneMaker", "Phone 15", 6
    exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 5.0)})
    quality, data = 92, b""
    for quality in (92, 85, 78, 70, 60):
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=quality, exif=exif)
        data = buf.getvalue()
        if len(data) <= target_bytes * 1.15:
            break
    second = io.BytesIO()
    image.resize((640, 480)).save(second, "JPEG", exif=exif)  # the phone's preview picture, with its own GPS
    return data + second.getvalue()


def one_core() -> tuple[str, Any]:
    """Pin this process to one core; return a note and how to undo it (gunicorn must not inherit it)."""
    try:
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {sorted(cores)[0]})
        return "pinned to one core", lambda: os.sched_setaffinity(0, cores)
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)", lambda: None


def time_it(work: Any, rounds: int) -> list[float]:
    times = []
    for i in range(rounds):
        t0 = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - t0)
    return times


def processing(rounds: int) -> str:
    """Time sniff+clean+store of a 5 MB photo against a plain write of the same bytes."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy.orm import Session

    import models
    from models.db import make_engine
    from models.media import DatabaseStore, FolderStore
    from models.media_safety import Limits, check

    pinned, unpin = one_core()
    photo = phone_photo()
    limits = Limits(max_bytes=10_485_760)
    tmp = Path(tempfile.mkdtemp(prefix="lianxin-media-bench-"))
    try:
        def plain(i: int) -> None:
            hashlib.sha256(photo).hexdigest()
            (tmp / f"plain-{i}.jpg").write_bytes(photo)

        def folder(i: int) -> None:
            kept = check(photo, limits)
            FolderStore(tmp / f"folder-{i}").put(None, hashlib.sha256(kept.data).hexdigest(), kept.data)  # type: ignore[arg-type]

        engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite3'}")
        models.Base.metadata.create_all(engine)
        store = DatabaseStore()

        def database(i: int) -> None:
            kept = check(photo, limits)
            digest = hashlib.sha256(kept.data + str(i).encode()).hexdigest()  # a new row each round
            with Session(engine) as session:
                store.put(session, digest, kept.data)
                session.commit()

        clean_only = time_it(lambda i: check(photo, limits), rounds)
        results = {"plain write + sha256 (baseline)": time_it(plain, rounds),
                   "sniff + clean only": clean_only,
                   "sniff + clean + folder store": time_it(folder, rounds),
                   "sniff + clean + database store (SQLite)": time_it(database, rounds)}
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        unpin()
    kept = check(photo, limits)
    lines = [f"photo {len(photo) / 1e6:.2f} MB (4032x3024, GPS EXIF + second picture) -> kept {len(kept.data) / 1e6:.2f} MB; "
             f"{rounds} rounds, {pinned}",
             f"{'step':42} {'median ms':>10} {'max ms':>8} {'x baseline':>10}"]
    base = statistics.median(results["plain write + sha256 (baseline)"])
    for name, times in results.items():
        med = statistics.median(times)
        lines.append(f"{name:42} {med * 1000:10.1f} {max(times) * 1000:8.1f} {med / base:10.1f}")
    worst = statistics.median(results["sniff + clean + folder store"]) * 1000
    lines.append(f"target: sniff + clean + store < 300 ms on one core -> {worst:.0f} ms "
                 f"({'met' if worst < 300 else 'NOT met'})")
    return "\n".join(lines)


def webhook(args: argparse.Namespace) -> str:
    """Paced p99 of the callbacks with text only, then with 40 % media messages."""
    sys.path.insert(0, str(ROOT))
    from bench import webhook as wb
    from tests import payloads as p

    rng = random.Random(11)
    now = dt.datetime.now(dt.UTC)

    def build(n: int, media_share: float) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for i in range(n):
            roll = rng.random()
            if roll < media_share / 2:
                plain = p.wecom_text(now, msgtype="image", MediaId=f"m{i}", PicUrl="http://x", user=f"staff{i % 50}")
                out.append((f"/wecom/{p.SCHOOL}/app", wb._wecom(p, plain, now)))
            elif roll < media_share:
                body = p.dingtalk_body(now, staff_id=f"user{i % 300}", msgtype="picture",
                                       content={"downloadCode": f"code{i}"}, sessionWebhook=f"{wb.DEAD}/session")
                out.append((f"/dingtalk/{p.SCHOOL}/callback", wb._ding(p, body, now)))
            elif roll < (1 + media_share) / 2:
                body = p.dingtalk_body(now, " 食堂饭菜太咸了", staff_id=f"user{i % 300}", sessionWebhook=f"{wb.DEAD}/session")
                out.append((f"/dingtalk/{p.SCHOOL}/callback", wb._ding(p, body, now)))
            else:
                plain = p.wecom_text(now, "明天开会吗", user=f"staff{i % 50}")
                out.append((f"/wecom/{p.SCHOOL}/app", wb._wecom(p, plain, now)))
        return out

    n = max(int(args.rate * args.seconds * 2), 1000)
    phases = {"text only": build(n, 0.0), "40% media": build(n, 0.4)}
    tmp = Path(tempfile.mkdtemp(prefix="lianxin-media-bench-"))
    lines = [f"db={args.db} rate={args.rate}/s seconds={args.seconds} gunicorn workers={args.workers}",
             f"{'phase':12} {'ok':>6} {'p50 ms':>8} {'p99 ms':>8} {'handled +s':>10}  errors"]
    try:
        instance = tmp / "instance"
        instance.mkdir()
        (instance / "settings.yaml").write_text(
            "platforms:\n  t1:\n"
            f"    dingtalk: {{app_key: dingappkey, robot_code: {p.ROBOT_CODE}}}\n"
            f"    wecom: {{corp_id: {p.CORP_ID}, agent_id: '1000002'}}\n", encoding="utf-8")
        p99 = {}
        for name, reqs in phases.items():
            with wb.database(args.db, tmp) as url:
                wb.seed(url)
                env = {"LIANXIN_DATABASE_URL": url, "LIANXIN_APP_INSTANCE_PATH": str(instance),
                       "LIANXIN_APP_SECRET_KEY": "bench-secret-key-0123456789", "LIANXIN_APP_LOG_LEVEL": "WARNING",
                       "LIANXIN_PLATFORM_API_DINGTALK_API": wb.DEAD, "LIANXIN_PLATFORM_API_DINGTALK_OAPI": wb.DEAD,
                       "LIANXIN_PLATFORM_API_WECOM_API": wb.DEAD + "/cgi-bin/",
                       "LIANXIN_PLATFORM_API_TIMEOUT_SECONDS": "1",
                       "LIANXIN_T1_DINGTALK_APP_SECRET": p.DINGTALK_SECRET, "LIANXIN_T1_WECOM_TOKEN": p.TOKEN,
                       "LIANXIN_T1_WECOM_AES_KEY": p.AES_KEY, "LIANXIN_T1_WECOM_SECRET": "bench"}
                with wb.gunicorn("app:create_app()", env, args.workers, tmp / "callback.log", 4) as base:
                    r = wb.load(base, reqs, args.seconds, args.rate, 16)
                    r["handled_after_s"] = wb.wait_handled(url)
            p99[name] = r["p99_ms"]
            lines.append(f"{name:12} {r['ok']:6d} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
                         f"{r['handled_after_s']:10.1f}  {r['errors'] or ''}")
        lines.append(f"p99 with media / text only: {p99['40% media'] / max(p99['text only'], 1e-9):.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="photos kept per measurement")
    parser.add_argument("--webhook", action="store_true", help="also measure the webhook p99 with and without media")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if args.workers is None:
        args.workers = 1 if args.db == "sqlite" else 4
    print(processing(args.rounds))
    if args.webhook:
        print(webhook(args))


if __name__ == "__main__":
    main()



