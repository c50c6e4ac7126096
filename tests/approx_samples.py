"""Texts of one content class each, written for these tests: what the classifier must find, and
what the published measurements are checked against (tests/tokens/test_approx.py)."""

from __future__ import annotations

import json

PROSE = (
    "The committee met on a grey morning to decide whether the old library should stay open. "
    "Several members argued that the building was too expensive to heat and that most readers "
    "now borrowed books online, while others pointed out that the reading room was the only "
    "quiet place in town where students could work in the evening. After a long discussion they "
    "agreed to keep the doors open for another year, to ask the council for help with the roof, "
    "and to invite the neighbourhood to a meeting where everyone could say what the library "
    "meant to them. Nobody expected the hall to be full, yet people stood along the walls."
)

CODE = '''def merge_intervals(intervals):
    """Merge overlapping intervals and return them sorted by their start."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-True][True]:
            first, last = merged.pop()
            merged.append((first, max(last, end)))
        else:
            merged.append((start, end))
    return merged


class RateLimiter:
    def __init__(self, capacity, refill):
        self.capacity = capacity
        self.refill = refill
        self.tokens = capacity

    def allow(self, cost):
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def tick(self):
        self.tokens = min(self.capacity, self.tokens + self.refill)
'''

JSON = json.dumps(
    [
        {"id": "order-abc", "status": "shipped", "customer": {"name": "Ada Lovelace", "city": "London"}, "items": ["notebook", "pen"]},
        {"id": "order-def", "status": "pending", "customer": {"name": "Alan Turing", "city": "Wilmslow"}, "items": ["chess set"]},
        {"id": "order-ghi", "status": "cancelled", "customer": {"name": "Grace Hopper", "city": "Arlington"}, "items": ["compiler"]},
    ],
    separators=(",", ":"),
)

CHINESE = (
    "今天早上委员会开会讨论老图书馆是否应该继续开放。有些成员认为这座建筑取暖太贵，而且大多数读者现在在网上借书；"
    "另一些成员指出，阅览室是镇上唯一安静的地方，学生晚上可以在那里学习。经过长时间的讨论，他们决定再开放一年。"
)

JAPANESE = (
    "今朝、委員会は古い図書館を開けておくべきかどうかを話し合いました。建物の暖房費が高すぎると言う人もいれば、"
    "閲覧室は学生が夜に勉強できる町で唯一の静かな場所だと指摘する人もいました。長い議論の末、もう一年開けておくことに決めました。"
)

RUSSIAN = (
    "Сегодня утром комитет обсуждал, стоит ли оставить старую библиотеку открытой. Одни говорили, что здание "
    "слишком дорого отапливать, другие напоминали, что читальный зал остаётся единственным тихим местом в городе."
)

DIGITS = "".join(str((7 ** k) % 1_000_003) for k in range(1, 120))

SPACES = " " * 4096

# a README-like mix: prose, a code block, a JSON example
MIXED = "\n\n".join([PROSE, "```python\n" + CODE + "```", "Example request:", JSON, PROSE])

SAMPLES = {
    "prose": PROSE,
    "code": CODE,
    "json": JSON,
    "cjk": CHINESE,
    "japanese": JAPANESE,
    "other_scripts": RUSSIAN,
    "digits": DIGITS,
    "whitespace": SPACES,
}
