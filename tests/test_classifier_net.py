"""The urgent safety net (handlers/_safety_net.py, config/lexicons/safety_net.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers._normalize import prepare
from handlers.classifier import classify, get_classifier

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    "text",
    [
        "孩子刚才说肚子里像刀绞一样，脸都白了，现在趴在桌上起不来",  # body distress, new wording
        "儿子今天留了张纸条说他不在了大家就轻松了",  # danger to life
        "闺女五点半就该到家了，现在七点了人还没回来，电话手表也打不通",  # loss of contact
        "有个不认识的叔叔今天在校门口拉着我女儿的手要带她去买玩具",  # stranger
        "老师今天让我儿子在操场上晒着站了一个下午",  # punishment on the body
        # round 10 (blind16): a child left alone somewhere unsafe; a driver on his phone
        "刚才托管班的车把儿子放到了桥那头，他现在一个人在公路边上等我",
        "闺女说今天下错站了，现在不知道自己在哪，天也黑了",
        "儿子说今天接送的车上司机一路刷着视频，车子开得左右晃",
    ],
)
def test_the_net_catches_dangers_now_in_wordings_the_lexicon_lacks(text: str) -> None:
    c = classify(text)
    assert c.urgency == "urgent", (c, c.signals)
    assert c.kind in ("complaint", "help")


@pytest.mark.parametrize(
    "text",
    [
        "建议学校每个楼层都放一个急救箱，孩子万一流血了可以先处理",  # suggestion
        "下周的防溺水安全课孩子需要带什么吗？",  # drill / safety lesson
        "学校对老师体罚学生是怎么处分的？想了解一下",  # policy question
        "孩子姥姥前天摔了一跤住院了，这周孩子由舅舅接",  # a family member's accident
        "上个月孩子在操场磕破了头，班主任马上送医务室，现在早就好了，谢谢老师",  # settled, praised
        # round 9 (blind15): an object lost, not a child; tired from homework; a parent hurt; a hypothetical
        "女儿的电话手表今天课间放在窗台上，放学就找不到了，老师能帮忙留意一下吗",
        "作业天天写到快十二点，孩子早上起不来，眼睛红红的，能不能少布置点",
        "她妈妈上周在车间把手压伤了还在养着，今天能不能晚点来接孩子",
        "假如孩子在午睡的时候抽搐了，老师一般会怎么处理？想提前了解",
        # round 10 (blind16): a family member's fall told as run-on voice text; a teacher not answering
        "她爸前几天搬货从梯子上摔下来手骨折了现在干不了活孩子的校服钱能不能缓一缓",
        "孩子发烧在家我早上打了六个电话给老师都没人接到现在也没回",
        # round 11 (blind17): numb and marked from napping on a desk; a lost watch with today and a place;
        # a past illness dated by weekday ("上周二" is one jieba word)
        "托管班午睡只能趴在桌上，孩子今天睡醒手臂都麻了，脸上压得全是红印子",
        "儿子的电话手表今天下午在体育馆更衣的时候不见了，麻烦老师帮着找一找",
        "上周二孩子在学校头疼得厉害，老师一直没告诉我，打了电话也不接",
        # round 12 (blind18): an allergy diet is an accommodation; a harm that has not happened
        # ("难道要等…才…"); an injury clarified as the child's own at home
        "女儿对芒果过敏，吃了嘴巴会肿，学校发的水果能不能单独给她换成别的",
        "学校后面那条河连个护栏都没有，难道要等孩子掉下去才装吗",
        "孩子脸上那道口子不是同学弄的，是她自己在家削铅笔划的，已经问清楚了，谢谢老师",
    ],
)
def test_the_taxonomy_exceptions_are_not_urgent(text: str) -> None:
    c = classify(text)
    assert c.urgency != "urgent", (c, c.signals)


def test_the_gate_never_hides_a_message_the_net_would_flag() -> None:
    """Every labelled urgent message the net scores without the gate also passes the gate."""
    classifier = get_classifier()
    net = classifier._engine.net
    assert net.gate is not None and len(net.gate) < 400
    texts = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("urgency") == "urgent":
                texts.append(prepare(row["text"], classifier.lexicon.emoticons)[0].lower())
    gate, net.gate = net.gate, None
    try:
        flagged = [t for t in texts if net.score(t)[0] >= net.fire]
    finally:
        net.gate = gate
    assert len(flagged) >= 0.8 * len(texts)
    assert all(not gate.isdisjoint(t) for t in flagged)
    assert [net.score(t)[0] >= net.fire for t in flagged] == [True] * len(flagged)


def test_most_ordinary_messages_skip_the_net() -> None:
    net = get_classifier()._engine.net
    ordinary = ["收到，谢谢老师", "请问期末考试是哪一天？", "已交", "校服一套要四百八", "周末愉快"]
    assert sum(net.gate.isdisjoint(t) for t in ordinary) >= 3
