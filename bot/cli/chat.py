"""``flask --app app chat --as 张小明妈妈``: the simulator in a terminal."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from bot.extension import lianxin
from models import simulator as sim


@click.command("chat")
@click.option("--as", "who", required=True, help="扮演的人：显示名（张小明妈妈、王芳）或编号（guardian-3）")
@with_appcontext
def chat_command(who: str) -> None:
    """Chat with the bot as someone from the demo school.

    Type a line to send it privately; start it with 「群 」 (or include
    @连心) to say it in the class group. ``/file PATH`` sends a picture or
    file (its type decides which; 「群 /file PATH」 in the group). Ctrl-D ends.
    """
    from bot.platforms.simulator.webhook import chat_key, post, post_file

    ext = lianxin()
    bot_name = ext.settings.simulator.bot_name
    with ext.sessionmaker() as session:
        person = sim.find_person(session, who)
        if person is None:
            raise click.ClickException(f"找不到「{who}」，可先运行 flask --app app seed-demo")
        chats = {"private": chat_key(person, "private")}
        if person.group_id:
            chats["group"] = chat_key(person, "group")
        seen = {w: (sim.lines(session, c, limit=1) or [None])[-1] for w, c in chats.items()}
        last = {w: (line.id if line else 0) for w, line in seen.items()}
        click.echo(f"你现在是 {person.label}。私聊直接输入；群聊以「群 」开头，并 @{bot_name} 才会被机器人收到。")
        click.echo(f"提示：{person.hint}")
        stdin = click.get_text_stream("stdin")
        while True:
            if stdin.isatty():
                click.echo("> ", nl=False)
            line = stdin.readline()
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            where = "private"
            if text.startswith("群 ") or text.startswith("群：") or f"@{bot_name}" in text:
                if not person.group_id:
                    click.echo("（此人没有班级群）")
                    continue
                where, text = "group", text.removeprefix("群 ").removeprefix("群：").strip()
            if text.startswith("/file"):
                path = Path(text.removeprefix("/file").strip()).expanduser()
                if not path.is_file():
                    click.echo(f"（找不到文件 {path}）")
                    continue
                with path.open("rb") as handle:  # one byte past the cap is enough to refuse it
                    data = handle.read(ext.settings.media.max_bytes + 1)
                posted = post_file(ext, session, person, where, data, path.name)
            else:
                posted = post(ext, session, person, where, text)
            if where == "group" and not posted.delivered:
                click.echo(f"（群聊消息没有 @{bot_name}，机器人收不到）")
            for w, c in chats.items():
                for row in sim.lines(session, c, after_id=last[w]):
                    last[w] = row.id
                    if row.from_bot:
                        label = "群" if w == "group" else "私聊"
                        click.echo(f"[{label}] {row.author}：{row.text}")
