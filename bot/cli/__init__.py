"""Every operator command (``flask --app app …``): the terminal is one more adapter.

One module per area; :func:`register` adds them all to the app.
"""

from __future__ import annotations

from flask import Flask

from bot.cli.chat import chat_command
from bot.cli.classifier import classifier_group
from bot.cli.classify import classify_command, classify_eval_command
from bot.cli.exports import export_command
from bot.cli.groups import groups_group
from bot.cli.inbox import inbox_group, inbox_worker_command
from bot.cli.outbox import outbox_group
from bot.cli.platforms import platforms_group, roster_sync_command
from bot.cli.scheduler import digest_command, run_job_command, scheduler_command
from bot.cli.settings import show_settings_command
from bot.cli.setup import init_db_command, roster_group, schools_group, seed_demo_command
from bot.cli.stream import dingtalk_stream_command
from bot.cli.tickets import tickets_group

COMMANDS = (
    init_db_command, seed_demo_command, roster_group, schools_group, chat_command, show_settings_command,
    classify_command, classify_eval_command, tickets_group, groups_group, outbox_group,
    export_command, scheduler_command, run_job_command, digest_command, inbox_worker_command, inbox_group,
    dingtalk_stream_command, platforms_group, classifier_group,
)


def register(app: Flask) -> None:
    """Add every operator command to ``app.cli``."""
    for command in COMMANDS:
        app.cli.add_command(command)
    if "sync" not in roster_group.commands:
        roster_group.add_command(roster_sync_command)  # roster sync wecom|dingtalk (家校通讯录)
