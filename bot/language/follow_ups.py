"""What a short follow-up question asks of the answer just given.

After "how do I replace my card?" people go on with "要带什么材料", "can I do it online" or "那下一步
是啥": questions that name no topic and only make sense about the answer before them. The classifier
sees the message alone and scatters them over unrelated intents; the assistant answers them about
the topic it has just explained (actions/info.py).
"""

from __future__ import annotations

import re

from bot.language.text import asks_when, for_the_hall, to_simplified

# Each part of a topic a follow-up asks about, in the order they are looked for: "what do I need to
# do" is the next step, not documents; "要多少钱" is the cost, not the time.
_ASPECTS = (
    (
        "next",
        r"下一步|接下来|然后呢|之后呢|以后呢|完了呢|(?:然后|之后|以后)我?(?:怎么|干|要|该|做)|怎么办|咋办|咋整|怎么弄|咋弄"
        r"|手续|(?:该|要)怎么\W*$"
        r"|(?:该|要|得|需要)(?:做|干|弄)(?:什么|啥|嘛)|(?:现在|那)我?(?:该|要)?干(?:什么|啥|嘛)"
        r"|\bwhat (?:should|do|must|can) i do\b|\bwhat(?:'?s| is)? (?:now|next)\b|\bthen what\b|\bnow what\b"
        r"|\bnext step"
        r"|\bwhat happens (?:next|now|after)|\b(?:and|ok|so) then\b|\bafter that\b"
        r"|\bwhat do i (?:need|have) to do\b|\bhow do i proceed\b",
    ),
    (
        "cost",
        r"多少钱|钱多少|几块钱|多少块|收费|收钱|要钱|花钱|费用|工本费|免费|贵不贵|贵吗"
        r"|\bhow much\b|\bcosts?\b|\bfees?\b|\bcharges?\b|\bfree\b|\bpay\b",
    ),
    (
        "documents",
        r"材料|证件|资料|证明|照片|相片|户口本|身份证|带(?:什么|啥|哪些|些啥|吗|不带|上|着)|[要得用]带"
        r"|准备(?:什么|啥|哪些)|需要(?:什么|啥|哪些)|要(?:什么|啥|哪些)东西"
        r"|\bdocuments?\b|\bpapers?\b|\bpaperwork\b|\bbring\b|\bphotos?\b|\bpictures?\b|\bid card\b"
        r"|\bwhat (?:do|will) i need\b",
    ),
    (
        "channels",
        r"网上|线上|在线|手机上|(?<![a-z])app(?![a-z])|现场|跑一趟|亲自去|小程序|网站|官网|公众号|电话(?:上|里)?(?:能|可以)?办|在家|不用去|非得去|必须去|一定要去"
        r"|哪里|哪儿|哪个|哪家|去哪|在哪|到哪|什么地方|啥地方|地址|(?:能|可以)办(?:吗|不)|能不能办"
        r"|\bonline\b|\binternet\b|\bwebsite\b|\bon (?:my|the) (?:phone|computer)\b|\bfrom home\b|\bwhere\b|\bwhich\b"
        r"|\bhave to go\b|\bgo (?:there|somewhere)\b|\bset (?:it|that|this) up\b"
        r"|\bhow (?:do|can) i(?: do (?:it|that))?\W*$",  # "how do I register?" after the filing: its words go
    ),
    (
        "notice",
        r"通知|短信|发消息|\bnotif\w*|\btext me\b|\ba text\b|\btext message|\bsms\b"
        r"|\blet me know\b|\btell me when\b",
    ),
    ("time", None),  # asks_when
)
_ASPECT_PATTERNS = [(aspect, re.compile(words, re.IGNORECASE) if words else None) for aspect, words in _ASPECTS]

# Words that name a topic of their own: a question with them is about that, not the answer before.
_TOPIC_WORDS = re.compile(
    r"补|换卡|换张|换一张|丢|掉了|遗失|被偷|挂失|解挂|解除|激活|开通|启用|申请|申领|办卡|新办|领|取卡|异地|外地|外省|跨省|备案|就医"
    r"|看病|医院|药店|修改|更改|变更|更新|改(?:手机|电话|号码|地址|名)|进度|查(?:一下|询|查)?|状态|银行|金融|注销"
    r"|\b(?:replac\w*|lost|lose|losing|stolen|report\w*|unblock\w*|activat\w*|apply\w*|applica\w*|region|province"
    r"|hospital|pharmacy|filing|update|change|progress|status|pick\w* up|collect\w*|bank|cancel\w*|new card)\b",
    re.IGNORECASE,
)
# The words of each topic, which a follow-up about that topic may use ("在哪激活" after the activation
# answer, "补办要多少钱" after the replacement one) without naming another.
_OWN_WORDS = {
    "apply": r"申请|申领|办卡|新办|\bappl\w*",
    "replace": r"补|换卡|换张|换一张|银行|\breplac\w*|\bnew card\b|\bbank\b",
    "activate": r"激活|开通|启用|银行|金融|\bactivat\w*|\bbank\b",
    "update": r"修改|更改|变更|更新|改(?:手机|电话|号码|地址|名)|\bupdate\b|\bchange\b",
    "cross_region": r"异地|外地|外省|跨省|备案|就医|看病|医院|\bregion\b|\bhospital\b|\bfiling\b|\bregister\b",
    "loss": r"挂失|\breport\w*",
    "pickup": r"领|取卡|\bpick\w* up\b|\bcollect\w*",
    "making": r"领|取卡|做好|寄|\bpick\w* up\b|\bcollect\w*|\bready\b|\bsent\b",
    "rejected": r"申请|\bappl\w*",
}
_OWN_PATTERNS = {topic: re.compile(words, re.IGNORECASE) for topic, words in _OWN_WORDS.items()}
_BETWEEN_SCRIPTS = re.compile(r"(?<=[A-Za-z])(?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])(?=[A-Za-z])")
# Longer than this, a message is a request of its own, not a follow-up.
_MOST_CHARACTERS = 40


def follow_up_aspect(text: str, topic: str | None = None) -> str | None:
    """The part of `topic` (the topic just explained) that the message asks about (``next``,
    ``cost``, ``documents``, ``channels``, ``notice`` or ``time``), or None when it is not such a
    follow-up: it names another topic, is a question for the service hall (who may act, opening
    hours: see `for_the_hall`), or is too long to be one."""
    simplified = _BETWEEN_SCRIPTS.sub(" ", to_simplified(text).strip())  # "fee多少": two words
    if not simplified or len(simplified) > _MOST_CHARACTERS:
        return None
    if topic in _OWN_PATTERNS:
        simplified = _OWN_PATTERNS[topic].sub(" ", simplified)
    if _TOPIC_WORDS.search(simplified):
        return None
    if for_the_hall(simplified):
        return None
    for aspect, pattern in _ASPECT_PATTERNS:
        if pattern.search(simplified) if pattern else asks_when(simplified):
            return aspect
    return None
