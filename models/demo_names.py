"""Deterministic Chinese names and phone numbers for the demo district."""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万严武戴莫孔向汤"
)
CHILD_BOY = ("浩然", "梓轩", "宇轩", "子墨", "一鸣", "俊杰", "思源", "皓轩", "博文", "天佑", "铭泽", "宇航", "沐阳",
             "嘉懿", "睿哲", "子豪", "明轩", "昊天", "晨阳", "奕辰", "文博", "泽宇", "承泽", "乐天", "嘉树", "彦博")
CHILD_GIRL = ("欣怡", "子涵", "雨桐", "诗涵", "梓萱", "一诺", "可馨", "语嫣", "思琪", "佳怡", "若汐", "晓彤", "梦瑶",
              "心怡", "雨萱", "紫涵", "沐晴", "安琪", "婉清", "书瑶", "语桐", "芷若", "静怡", "悦然", "嘉欣", "诗雨")
WOMAN = ("秀英", "丽", "敏", "静", "娟", "燕", "红", "霞", "丽华", "晓燕", "婷", "雪梅", "海燕", "丽娜", "春梅",
         "慧", "玲", "艳", "晓丽", "佳", "琳", "倩", "颖", "晓红", "美玲", "淑芬", "红霞", "文静")
MAN = ("伟", "强", "军", "磊", "勇", "涛", "斌", "超", "明", "建华", "志强", "海波", "立新", "国栋", "鹏", "浩",
       "刚", "辉", "峰", "杰", "建军", "振华", "卫东", "晓东", "宏伟", "国庆", "文斌", "永强")
ELDER_WOMAN = ("桂兰", "秀兰", "玉兰", "凤英", "桂英", "秀珍", "淑珍", "玉珍", "翠花", "素芬")
ELDER_MAN = ("建国", "国强", "德华", "长青", "福生", "满仓", "志刚", "德明", "宝山", "庆丰")
PHONE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "186", "187", "188", "189")


class NameMaker:
    """Hands out names and phone numbers, never the same twice (unless asked)."""

    def __init__(self, rng: random.Random, reserved_names: set[str], reserved_phones: set[str]) -> None:
        self.rng = rng
        self.names = set(reserved_names)
        self.phones = set(reserved_phones)

    def child(self, surname: str, gender: str) -> str:
        """Return an unused child's name with this surname."""
        pool = CHILD_BOY if gender == "男" else CHILD_GIRL
        for _ in range(200):
            name = surname + self.rng.choice(pool)
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("ran out of demo names")

    def adult(self, gender: str, elder: bool = False, surname: str | None = None) -> str:
        """Return an adult's name (not necessarily unique: parents share names in real life)."""
        pool = (ELDER_MAN if gender == "男" else ELDER_WOMAN) if elder else (MAN if gender == "男" else WOMAN)
        return (surname or self.surname()) + self.rng.choice(pool)

    def unique_adult(self, gender: str) -> str:
        """Return an adult's name not used yet (staff)."""
        for _ in range(500):
            name = self.adult(gender)
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("ran out of demo names")

    def surname(self) -> str:
        """Return a surname."""
        return self.rng.choice(SURNAMES)

    def phone(self) -> str:
        """Return an unused mobile number that never ends in 1234 (reserved for the docs' example)."""
        while True:
            phone = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"
            if phone not in self.phones and not phone.endswith("1234"):
                self.phones.add(phone)
                return phone
