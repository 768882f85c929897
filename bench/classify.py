"""Benchmark the classifier against bare jieba segmentation on the labelled messages.

Run: ``.venv/bin/python bench/classify.py [--n 20000]`` from the repository root.
Prints first-classification time in a fresh process, throughput, p50/p99 latency,
bare ``jieba.lcut`` throughput on the same messages and the cost ratios (classifier v2, and the
rules alone, so the learned layer's share is visible), the resident memory of a process that
built the web app and classified every message, and RSS/PSS/USS of two workers forked from a
master that preloaded the app and the classifier, as gunicorn does with config/gunicorn.conf.py
(targets: ≥ 5,000 msgs/s, ≤ 2.5× lcut, first classification ≤ 1.5 s, ≤ 150 MB RSS;
docs/classifier.md).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEV = ROOT.parent / "shared" / "data" / "dev.jsonl"
_COLD_START = """
import time
t0 = time.perf_counter()
import handlers  # the package __init__ (dispatch pipeline, models, SQLAlchemy): not the classifier's own cost
t1 = time.perf_counter()
from handlers.classifier import classify
c = classify("老师，孩子在学校被同学打了，脸都肿了")
t2 = time.perf_counter()
print(t2 - t0, t2 - t1, time.process_time(), c.kind)
"""


_RSS = """
import json, sys
sys.path.insert(0, ".")
from app import create_app
create_app()
from bench.classify import load_texts
from handlers.classifier import classify
for text in load_texts():
    classify(text)
mods = sorted({m.split(".")[0] for m in sys.modules} & {"numpy", "sklearn", "scipy", "openpyxl", "pillow_heif"})
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would report the parent's peak
status = {line.split(":")[0]: int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("Vm")}
print(status["VmHWM"] / 1024, status["VmRSS"] / 1024, json.dumps(mods))
"""

# gunicorn with preload_app (config/gunicorn.conf.py): the master builds the app and the classifier
# and freezes the collector, then forks; each worker classifies every text. RSS counts the shared
# pages in full in every worker; PSS shares them out between the processes mapping them; USS is
# what a worker alone holds (what one more worker costs).
_PRELOAD = """
import gc, json, os, sys, time
sys.path.insert(0, ".")
from app import create_app
create_app()
from bench.classify import load_texts
from handlers.classifier import classify, get_classifier
get_classifier()
gc.collect()
gc.freeze()
texts = load_texts()
def mem():
    d = {}
    for line in open("/proc/self/smaps_rollup"):
        k, _, v = line.partition(":")
        d[k] = int(v.split()[0]) / 1024 if v.strip().endswith("kB") else 0
    return [d["Rss"], d["Pss"], d["Private_Clean"] + d["Private_Dirty"]]
ready, report = os.pipe(), os.pipe()
pids = []
for w in range(WORKERS):
    pid = os.fork()
    if pid == 0:
        for t in texts:
            classify(t)
        os.write(ready[1], b".")
        while len(os.read(report[0], 1)) == 0:  # every worker measured while all are alive
            pass
        os.write(1, (json.dumps(mem()) + "\\n").encode())  # one write: the workers' lines never interleave
        os._exit(0)
    pids.append(pid)
for _ in pids:
    os.read(ready[0], 1)
os.write(report[1], b"." * len(pids))
for pid in pids:
    os.waitpid(pid, 0)
"""


def worker_rss() -> tuple[float, float, str]:
    """Return the peak and final RSS (MB) of a process that built the app and classified every text, and heavy modules."""
    out = subprocess.run([sys.executable, "-c", _RSS], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    peak, final, mods = out.split(maxsplit=2)
    return float(peak), float(final), mods.strip()


def preload_workers(workers: int = 2) -> list[list[float]]:
    """Return [RSS, PSS, USS] (MB) of each worker forked from a preloaded master, after classifying every text."""
    code = _PRELOAD.replace("WORKERS", str(workers))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("[")]


def load_texts() -> list[str]:
    """Return the texts of the dev set and of tests/data."""
    data = ROOT / "tests" / "data"
    paths = [p for p in (DEV,) if p.is_file()] + sorted(data.glob("*.jsonl")) + sorted(data.glob("*/*.jsonl"))
    paths = [p for p in paths if p.parent.name != "pairs"]
    texts = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def cold_start() -> tuple[float, float, float, float]:
    """Return seconds to the first result in a new process: total, classifier-only, CPU, wall incl. interpreter."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _COLD_START], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    wall = time.perf_counter() - start
    first, own, cpu = (float(x) for x in out.split()[:3])
    return first, own, cpu, wall


def timed(fn: Callable[[str], object], messages: list[str]) -> tuple[float, list[float]]:
    """Run fn over messages; return total seconds and per-message latencies."""
    clock = time.perf_counter
    latencies = []
    start = clock()
    for text in messages:
        t = clock()
        fn(text)
        latencies.append(clock() - t)
    return clock() - start, latencies


def interleaved_ratio(
    fn: Callable[[str], object], base: Callable[[str], object], messages: list[str], block: int = 250
) -> float:
    """Return CPU-time cost of fn over base, timed block by block in alternation.

    On a shared machine the load changes between two long sequential runs; alternating
    short blocks of the same messages exposes both to the same conditions, and CPU time
    (``process_time``) ignores time the process spent waiting for a core.
    """
    cpu = time.process_time
    own = ref = 0.0
    for i in range(0, len(messages), block):
        chunk = messages[i : i + block]
        t = cpu()
        for text in chunk:
            fn(text)
        own += cpu() - t
        t = cpu()
        for text in chunk:
            base(text)
        ref += cpu() - t
    return own / ref


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000, help="messages to classify (default 20000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    cold_first, _, _, _ = cold_start()
    cold_first2, cold_own, cold_cpu, cold_wall2 = cold_start()  # the first run may have built the cache
    import jieba

    from handlers.classifier import Classifier, classify, get_classifier

    texts = load_texts()
    messages = random.Random(args.seed).choices(texts, k=args.n)
    get_classifier()
    jieba.initialize()
    for text in texts:  # warm both paths
        classify(text)
        jieba.lcut(text)

    cpu = time.process_time
    t = cpu()
    total, lat = timed(classify, messages)
    total_cpu = cpu() - t
    t = cpu()
    seg_total, _ = timed(jieba.lcut, messages)
    seg_cpu = cpu() - t
    seg_plain, _ = timed(lambda t: jieba.lcut(t, HMM=False), messages)
    ratio_cpu = interleaved_ratio(classify, jieba.lcut, messages)
    rules_only = Classifier(learned=None).classify
    for text in texts:
        rules_only(text)
    ratio_rules = interleaved_ratio(rules_only, jieba.lcut, messages)
    rss, rss_final, heavy = worker_rss()
    forked = preload_workers(2)
    q = statistics.quantiles(lat, n=100)
    chars = sum(map(len, messages)) / len(messages)
    print(f"messages                 {len(messages)} drawn from {len(texts)} labelled texts (mean {chars:.1f} chars)")
    print(f"first classification     {cold_own:.3f} s classifier import + load + classify in a new process")
    print(f"                         {cold_first2:.3f} s incl. the handlers package import ({cold_cpu:.3f} s CPU), "
          f"{cold_wall2:.3f} s wall incl. interpreter; first-ever run {cold_first:.3f} s")
    print(f"classify throughput      {len(messages) / total:,.0f} msgs/s wall clock, "
          f"{len(messages) / total_cpu:,.0f} msgs per CPU-second (one core; lcut {len(messages) / seg_cpu:,.0f})")
    print(f"classify latency         p50 {q[49] * 1e6:.0f} µs   p99 {q[98] * 1e6:.0f} µs")
    print(f"bare jieba.lcut          {len(messages) / seg_total:,.0f} msgs/s (HMM on, the default)")
    print(f"bare jieba.lcut HMM=off  {len(messages) / seg_plain:,.0f} msgs/s")
    print(f"cost ratio               {total / seg_total:.2f}x bare jieba.lcut, {total / seg_plain:.2f}x HMM-off lcut "
          "(sequential wall-clock runs)")
    print(f"cost ratio (interleaved) {ratio_cpu:.2f}x bare jieba.lcut, CPU time, alternating blocks of 250 messages")
    print(f"  rules alone            {ratio_rules:.2f}x (the learned layer adds {ratio_cpu - ratio_rules:.2f}x)")
    print(f"worker RSS               {rss:.0f} MB peak, {rss_final:.0f} MB at the end, after create_app() and "
          f"classifying all {len(texts)} texts (heavy modules loaded: {heavy})")
    for i, (w_rss, w_pss, w_uss) in enumerate(forked):
        print(f"preloaded worker {i + 1}       RSS {w_rss:.0f} MB, PSS {w_pss:.0f} MB, USS {w_uss:.0f} MB "
              "(forked from a master that built the app and the classifier, as gunicorn preload_app; 2 workers)")


if __name__ == "__main__":
    main()
