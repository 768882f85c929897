"""School codes: readable, unique, and accepted with names wherever --school is asked."""

from __future__ import annotations

from models.demo import seed_demo


def test_demo_schools_have_readable_codes_and_operators_may_rename(runner, db_session, now) -> None:
    seed_demo(db_session, now)
    db_session.commit()
    listing = runner.invoke(args=["schools", "list"]).output
    assert "demo-primary\t实验小学" in listing and "demo-kg\t阳光幼儿园" in listing
    result = runner.invoke(args=["schools", "set-code", "实验小学", "shiyan-primary"])
    assert result.exit_code == 0, result.output
    assert "shiyan-primary\t实验小学" in runner.invoke(args=["schools", "list"]).output
    # Both the code and the name work after --school.
    assert runner.invoke(args=["tickets", "list", "--school", "shiyan-primary"]).exit_code == 0
    assert runner.invoke(args=["tickets", "list", "--school", "实验小学"]).exit_code == 0
    taken = runner.invoke(args=["schools", "set-code", "阳光幼儿园", "shiyan-primary"])
    assert taken.exit_code != 0 and "已被「实验小学」使用" in taken.output
    bad = runner.invoke(args=["schools", "set-code", "阳光幼儿园", "Bad Code"])
    assert bad.exit_code != 0 and "小写字母" in bad.output
    # Seeding again keeps a code an operator chose.
    seed_demo(db_session, now)
    assert "shiyan-primary" in runner.invoke(args=["schools", "list"]).output
