"""``python -m scheduler``: the same as ``flask --app app scheduler``."""

from app import create_app, lianxin
from scheduler.build import run_scheduler

if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        run_scheduler(lianxin(app))
