"""Benchmark the scheduler's sweeps and the digest on a district-sized PostgreSQL database.

Builds, in a schema of its own (dropped afterwards), a district of 100,000
students, 6,000 teachers and 1,000,000 tickets (times ``--scale``) with
``INSERT ... SELECT generate_series`` and times each sweep and the digest;
with ``--double`` it repeats at twice the size and prints the growth.

    .venv/bin/python bench/sweeps.py --scale 0.1 --double
    LIANXIN_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/sweeps.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import models
from config.settings import load_settings

PG_URL = os.environ.get("LIANXIN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)  # Thu 17:30 Beijing
SCHEMA = "lx_bench_sweeps"

FILL = """
INSERT INTO schools (id, code, name, kind, created_at)
  SELECT g, 's' || g, '学校' || g, 'primary', :now FROM generate_series(1, :schools) g;
INSERT INTO staff (id, school_id, name, phone, role, active, created_at)
  SELECT g, (g - 1) % :schools + 1, '教师' || g, '139' || lpad(g::text, 8, '0'),
         CASE WHEN g <= :schools THEN 'principal' WHEN g <= 3 * :schools THEN 'director' ELSE 'teacher' END,
         true, :now FROM generate_series(1, :staff) g;
INSERT INTO classes (id, school_id, grade, name, head_teacher_id)
  SELECT g, (g - 1) % :schools + 1, '一年级', '班' || g, NULL FROM generate_series(1, :classes) g;
INSERT INTO students (id, school_id, class_id, name, responsible_staff_id, active, created_at)
  SELECT g, c.school_id, c.id, '学生' || g,
         3 * :schools + ((g - 1) % (:staff - 3 * :schools)) + 1, true, :now
  FROM generate_series(1, :students) g JOIN classes c ON c.id = (g - 1) % :classes + 1;
INSERT INTO student_care (student_id, flag) SELECT g, 'left_behind' FROM generate_series(1, :students, 10) g;
INSERT INTO visits (school_id, student_id, staff_id, kind, visited_at, notes, created_at)
  SELECT s.school_id, s.id, s.responsible_staff_id, 'phone', :now - (g % 60) * interval '1 day', '', :now
  FROM generate_series(1, :students * 2) g JOIN students s ON s.id = (g - 1) % :students + 1;
INSERT INTO tickets (id, school_id, number, kind, category, urgency, text, class_id, student_id, assignee_id,
                     state, respond_by, resolve_by, responded_at, resolved_at, closed_at, close_reason,
                     satisfaction, reopen_count, created_at, updated_at, callback_asked_at)
  SELECT g, st.school_id, 'N-' || g, 'complaint', (ARRAY['food','safety','homework','transport'])[g % 4 + 1],
         CASE WHEN g % 20 = 0 THEN 'urgent' ELSE 'normal' END, '问题描述' || g, st.class_id, st.id,
         st.responsible_staff_id,
         CASE WHEN g % 100 < 95 THEN 'closed' WHEN g % 100 < 97 THEN 'resolved' ELSE 'in_progress' END,
         c + interval '24 hours', c + interval '72 hours',
         c + interval '3 hours', CASE WHEN g % 100 < 97 THEN c + interval '30 hours' END,
         CASE WHEN g % 100 < 95 THEN c + interval '40 hours' END,
         CASE WHEN g % 100 < 95 THEN 'satisfied' END, CASE WHEN g % 100 < 95 THEN 'satisfied' END, 0, c,
         -- updated_at = the last event's time, as add_event keeps it (steady-state events included)
         LEAST(:now, c + CASE WHEN g % 100 < 95 THEN interval '40 hours' WHEN g % 100 < 97
                              THEN interval '31 hours' + interval '3 days' ELSE interval '72 hours' END),
         CASE WHEN g % 100 BETWEEN 95 AND 96 THEN c + interval '31 hours' END
  FROM (SELECT g, :now - ((g::bigint * 7919) % (365 * 24 * 60)) * interval '1 minute' AS c
        FROM generate_series(1, :tickets) g) t
  JOIN students st ON st.id = (t.g - 1) % :students + 1;
INSERT INTO ticket_events (ticket_id, at, action, text)
  SELECT id, closed_at - interval '1 hour', 'callback_answered', '满意' FROM tickets WHERE state = 'closed';
INSERT INTO ticket_events (ticket_id, at, action, text)
  SELECT id, resolved_at, 'resolved', NULL FROM tickets WHERE resolved_at IS NOT NULL;
-- Steady state: what earlier ticks already did (escalations, reminders, expired callbacks).
UPDATE tickets SET state = 'closed', close_reason = 'not_reached', closed_at = callback_asked_at + interval '3 days'
  WHERE state = 'resolved' AND callback_asked_at < :now - interval '3 days';
INSERT INTO ticket_events (ticket_id, at, action)
  SELECT id, callback_asked_at + interval '1 day', 'callback_reminded' FROM tickets
  WHERE state = 'resolved' AND callback_asked_at < :now - interval '1 day';
UPDATE tickets SET escalated_at = resolve_by WHERE state = 'in_progress' AND resolve_by < :now;
INSERT INTO ticket_events (ticket_id, at, action)
  SELECT id, resolve_by, 'escalated_resolve' FROM tickets WHERE state = 'in_progress' AND resolve_by < :now;
"""


def build(engine, scale: float) -> dict[str, int]:
    """Fill the schema; return the sizes."""
    sizes = {"schools": max(2, int(100 * scale)), "students": int(100_000 * scale), "staff": int(6_000 * scale),
             "tickets": int(1_000_000 * scale)}
    sizes["classes"] = max(sizes["schools"], sizes["students"] // 40)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    models.Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(text(statement), {**sizes, "now": NOW})
        conn.execute(text("ANALYZE"))
    return sizes


def timed(label: str, fn, results: dict[str, float]) -> None:
    start = time.perf_counter()
    fn()
    results[label] = time.perf_counter() - start
    print(f"  {label:<34} {results[label] * 1000:9.1f} ms", flush=True)


def run(engine, settings) -> dict[str, float]:
    """Time every sweep and the digest (each rolled back, so runs are comparable)."""
    from zoneinfo import ZoneInfo

    from models.callback_sweep import sweep_callbacks
    from models.deadline_sweep import sweep_deadlines
    from models.digest import build_digest
    from models.directory import School
    from models.visit_reminders import remind_visits
    from models.visits import due_students

    tz = ZoneInfo(settings.scheduler.timezone)
    results: dict[str, float] = {}
    with Session(engine) as s:
        schools = s.scalars(select(School).order_by(School.id)).all()
        timed("sweep_deadlines", lambda: print("   ", sweep_deadlines(s, settings, NOW)), results)
        s.rollback()
        timed("sweep_callbacks", lambda: print("   ", sweep_callbacks(s, settings, NOW)), results)
        s.rollback()
        timed("visit due list (all schools)", lambda: due_students(s, now=NOW, tz=tz, care_days=14), results)
        timed("visit reminders (one school)", lambda: remind_visits(s, settings, schools[0].id, "W", NOW), results)
        s.rollback()
        timed("digest (one school)", lambda: build_digest(s, settings, schools[0], NOW.astimezone(tz).date()),
              results)
        timed("digest (all schools)", lambda: [build_digest(s, settings, sc, NOW.astimezone(tz).date())
                                               for sc in schools], results)
        s.rollback()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k students, 1M tickets")
    parser.add_argument("--double", action="store_true", help="repeat at twice the size and print growth")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards (for EXPLAIN ANALYZE)")
    parser.add_argument("--reuse", action="store_true", help="time the kept schema instead of building one")
    args = parser.parse_args()
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    engine = create_engine(url)
    settings = load_settings(overrides={"app": {"secret_key": "bench-secret-key-0123456789"}})
    rounds = [args.scale, args.scale * 2] if args.double else [args.scale]
    all_results = []
    try:
        for scale in rounds:
            if not args.reuse:
                t0 = time.perf_counter()
                sizes = build(engine, scale)
                print(f"scale {scale}: {sizes} built in {time.perf_counter() - t0:.1f} s", flush=True)
            all_results.append(run(engine, settings))
    finally:
        if not args.keep:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        engine.dispose()
    if len(all_results) == 2:
        print("growth when the data doubles:")
        for label, first in all_results[0].items():
            print(f"  {label:<34} x{all_results[1][label] / max(first, 1e-6):.2f}")


if __name__ == "__main__":
    main()
