"""The baseline for bench/webhook.py: a bare Flask endpoint doing one INSERT, nothing else."""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask, request
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, insert

from models.db import make_engine

metadata = MetaData()
rows = Table(
    "bench_bare_rows", metadata,
    Column("id", Integer, primary_key=True),
    Column("payload", Text),
    Column("created_at", DateTime(timezone=True)),
)


def create() -> Flask:
    """Build the app on BENCH_DATABASE_URL (gunicorn: ``bench.bare_app:create()``)."""
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])  # same engine settings as the real app
    app = Flask(__name__)

    @app.post("/insert")
    def insert_row() -> str:
        with engine.begin() as conn:
            conn.execute(insert(rows).values(payload=request.get_data(as_text=True)[:2000],
                                             created_at=dt.datetime.now(dt.UTC)))
        return "ok"

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    return app
