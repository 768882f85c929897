"""``flask dingtalk-stream``: receive DingTalk robot messages over the Stream connection."""

from __future__ import annotations

import asyncio
import signal

import click
from flask.cli import with_appcontext

from bot.extension import lianxin


@click.command("dingtalk-stream")
@click.option("--school", "school", default=None, help="Only this school (code or name); default: every stream-mode school.")
@with_appcontext
def dingtalk_stream_command(school: str | None) -> None:
    """Run the DingTalk Stream connections (schools with dingtalk.mode: stream); Ctrl-C stops."""
    from flask import current_app

    from bot.platforms.dingtalk.stream import build_streams, inbox_waker, stream_schools
    ext = lianxin()
    code = _school_code(ext, school) if school else None
    codes = stream_schools(ext.settings, code)
    if not codes:
        where = f"学校「{school}」" if school else "没有任何学校"
        raise click.ClickException(
            f"{where}未设置为钉钉 Stream 模式：请在 platforms.<学校代码>.dingtalk 下设置 mode: stream"
            "（或环境变量 LIANXIN_<学校代码>_DINGTALK_MODE=stream），并在钉钉开发者后台把机器人消息接收模式改为 Stream 模式。")
    app = current_app._get_current_object()  # type: ignore[attr-defined] - the real app for worker threads
    streams = build_streams(app, codes, inbox_waker(app))
    if not streams:
        raise click.ClickException("配置了 Stream 模式的学校都不在数据库中：请先导入花名册或运行 init-db。")
    click.echo(f"连心钉钉 Stream 已启动：{'、'.join(s.school_code for s in streams)}（Ctrl-C 退出）")
    asyncio.run(_main(streams))
    click.echo("连心钉钉 Stream 已停止。")


async def _main(streams: list) -> None:
    from bot.platforms.dingtalk.stream import run_streams

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_streams(streams, stop)


def _school_code(ext, given: str) -> str:
    """Resolve ``--school`` (a code or a school's name) to a code."""
    from models.directory import find_school

    with ext.sessionmaker() as db:
        school = find_school(db, given)
        return school.code if school is not None else given
