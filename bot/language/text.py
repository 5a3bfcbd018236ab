"""Normalising a citizen's message before intent classification, and telling its language.

People write 社會保障卡 as often as 社保卡, type 设保卡 with a pinyin keyboard, and speech
recognisers hand over 幺三九… for phone numbers. Classifying the normalised text lets one model
serve all of them: traditional characters become simplified (OpenCC), common homophone slips of
this service's key terms are corrected, and numbers become ASCII digits.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

import opencc

from bot.language.extraction import normalise_message

# Pinyin-keyboard and recogniser slips of this service's key terms, longest first when applied.
# Only slips that cannot be ordinary words: 接挂 (直接挂失) or 不办 (不办了) would corrupt real text.
HOMOPHONE_FIXES = {
    "设保卡": "社保卡",
    "社包卡": "社保卡",
    "社宝卡": "社保卡",
    "射保卡": "社保卡",
    "涉保卡": "社保卡",
    "社保咔": "社保卡",
    "社保可": "社保卡",
    "蛇保卡": "社保卡",
    "社保咖": "社保卡",
    "社保咭": "社保卡",  # 咭 is how Cantonese writers spell "card"
    "医保咭": "医保卡",
    "社会保障咔": "社会保障卡",
    "社会保账卡": "社会保障卡",
    "挂是": "挂失",
    "挂湿": "挂失",
    "卦失": "挂失",
    "挂师": "挂失",
    "刮失": "挂失",
    "瓜失": "挂失",
    "解卦": "解挂",
    "解刮": "解挂",
    "近度": "进度",
    "激获": "激活",
    "基活": "激活",
    "补半": "补办",
    "捕卡": "补卡",
    "一地就医": "异地就医",
    "易地就医": "异地就医",
    "身分证": "身份证",
}
_FIXES = re.compile("|".join(sorted(map(re.escape, HOMOPHONE_FIXES), key=len, reverse=True)))
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# "/affirm": Rasa takes a message that is an intent's name after a slash for that intent, unread.
# The chat page's quick-reply buttons send these (their payloads in domain.yml).
_INTENT_PAYLOAD = re.compile(r"/([a-z_]+)")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# What makes a Chinese message a question (a name never has any of it), A-not-A ones included
# ("要不要", "是不是", "有没有", "可不可以").
QUESTION_ZH = (
    r"[?？]|吗|呢|多久|多少|多长|怎么|为什么|为啥|什么|啥|咋|哪|几[天时个]"
    r"|(?<![不没])(?P<a_not_a>(?![不没])[\u4e00-\u9fff])[不没](?P=a_not_a)|可不可以|需不需要"
    r"|了没有?[啊呀呢]?$|(?:是|对)吧[?？]?$"
)
# Asking how long something takes or when it will happen ("还要多久", "几天能到", "how much longer").
_WHEN = re.compile(
    r"多久|多长时间|多少天|几天|几个?(?:月|礼拜|星期|周)|什么时候|啥时候|哪天|何时|要等|还得等"
    r"|\bhow (?:long|soon|many days|many weeks|much longer)\b|\bwhen\b",
    re.IGNORECASE,
)
# Words Mandarin speakers type as often as English ones: a message of nothing else ("ok", "thx",
# "yes") does not say which language the person wants, so it leaves the conversation's as it was.
_EITHER_LANGUAGE = frozenset(
    "ok okay okk kk thx tks ty thanks yes yeah yep no nope bye byebye lol haha hmm emm".split()
)


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters as simplified ones (other text unchanged)."""
    return _to_simplified().convert(text)


def normalise_for_understanding(text: str) -> str:
    """Simplified characters, corrected key terms and ASCII digits; other words untouched."""
    simplified = to_simplified(normalise_message(text))
    return _FIXES.sub(lambda m: HOMOPHONE_FIXES[m.group(0)], simplified)


# What makes a message a question, in either language; "是先找找还是先挂" asks which.
_ASKS = re.compile(
    rf"{QUESTION_ZH}|(?:是|先|该).{{0,8}}还是."
    r"|\b(?:how|what|when|why|where|which|can|could|will|would|is it|do i|does)\b",
    re.IGNORECASE,
)


def asks_something(text: str) -> bool:
    """Whether the message asks something, in either language."""
    return bool(_ASKS.search(text))


_FAREWELL = re.compile(
    r"再见|拜拜|拜了|白白|回见|88|先这样|就这样吧|\b(?:bye|goodbye|good bye|see you|see ya|cya)\b"
    r"|\bhave a (?:good|nice) (?:day|one)\b|\bthat'?s all\b",
    re.IGNORECASE,
)


def says_farewell(text: str) -> bool:
    """Whether the message takes leave in words ("好的再见", "ok bye"), not only in the classifier's
    reading of it ("maybe later" is a no, not a goodbye)."""
    return bool(_FAREWELL.search(text))


# Asking to lift a loss report, or saying the card is found: "帮我解冻一下", "cancel the loss report on my
# dad's card", "now i found it in my coat", "my card no longer lost, i find it in car".
_UNBLOCK_WORDS = re.compile(
    r"解挂|解除挂失|取消挂失|撤销挂失|撤回挂失|解冻|解锁|解封|恢复使用|继续用|不再挂失"
    r"|\b(?:unblock|unfreez|unfroz|unlock|un-?report|de-?report)"
    r"|\bcancel\s+(?:the\s+|my\s+|his\s+|her\s+|that\s+)?(?:loss\s+|lost\s+)?report"
    r"|\b(?:lift|remove|undo|take\s+off)\s+(?:the\s+|my\s+)?(?:block|freeze|loss|lost)",
    re.IGNORECASE,
)
# Lost no longer, so once lost ("not lost" alone denies a loss: a question about the card's state).
_NO_LONGER_LOST = re.compile(
    r"\bno longer lost\b|\bnot lost any ?more\b|\b(?:have|got) (?:it|the card|my card) back\b|\bin my hands?\b"
    r"|卡(?:就)?在我?手(?:上|里)|卡(?:就)?在我这",
    re.IGNORECASE,
)
_FOUND = re.compile(
    r"找到了|找着了|找回来了|找回了|捡回来了|寻着了|翻到了"
    r"|\b(?:found|find)\s+(?:it|my\s+card|the\s+card|my\s+\w+\s+card)\b|\bturned up\b",
    re.IGNORECASE,
)
# What makes a finding hypothetical, denied or still to come: "要是找到了怎么办", "if I found it",
# "haven't found it", "I can't find it", "help me find it".
_NOT_FOUND_YET = re.compile(
    r"要是|如果|万一|假如|假设|没|\bif\b|\bwhen\b|n'?t\b|\bnot\b|\bnever\b|\bcannot\b|\bto\b|\bhelp\b|\bmay\b",
    re.IGNORECASE,
)


# Punctuation, or a space between Chinese words (English words are all spaced).
_CLAUSE_BREAK = re.compile(r"[,，。.!！?？;；]|(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def _clause_start(text: str, end: int) -> int:
    """Where the clause holding position `end` starts ("临时挂失还没过期 卡找到了": at 卡)."""
    breaks = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, end)]
    return breaks[-1] if breaks else 0


def _found(text: str) -> re.Match[str] | None:
    """The first words saying the card was found, not as a supposition or a denial in its clause."""
    return next(
        (
            m
            for m in _FOUND.finditer(text)
            if not _NOT_FOUND_YET.search(text, max(m.start() - 12, _clause_start(text, m.start()), 0), m.start())
        ),
        None,
    )


def card_found(text: str) -> bool:
    """Whether the message says the card was found ("找到了", "oh yes, found it!! its in my pocket")."""
    return _found(text) is not None or bool(_NO_LONGER_LOST.search(text))


# The card refused where it is used, or shown as blocked: "卡用不了了", "医院刷不了", "显示被冻结了",
# "my card is blocked", "it stopped working at the pharmacy". Not a request to block it ("帮我把卡冻结了",
# "block my card"): those are loss reports.
_REFUSED = re.compile(
    r"用不了|(?<!能)不能用(?![吗么吧呢])|没法用|无法使用|不好使|不管用|刷不了|刷不出|刷不上|刷不进|刷卡失败|读不出|读不了|识别不了"
    r"|被拒|拒绝了|拒收|不给刷|不让用|用不成|结算不了|结不了算|报销不了"
    r"|(?<!把)(?<!帮我)(?:被|给)(?:冻结|冻住|锁定?|封|停用)|(?<!把卡)(?:冻结|冻住|锁住|锁定|停用|失效)了"
    r"|(?:显示|提示|说)[\s:：\"“”'‘’]*(?:卡)?(?:已经?|被)?(?:挂失|冻结|锁定|停用)"
    r"|\b(?:says|said|shows|showed|saying)\s+(?:it'?s\s+|it is\s+|that\s+|the card is\s+)?"
    r"(?:blocked|frozen|locked|suspended|reported lost|invalid)\b"
    r"|\b(?:is|was|got|been|seems|looks|became)\s+(?:\w+\s+)?(?:blocked|frozen|locked|deactivated|suspended|disabled)\b"
    r"|卡(?:片)?(?:显示)?异常|显示异常|\b(?:says|shows) (?:card )?(?:abnormal|error|invalid)\b"
    r"|\b(?:doesn'?t|doesnt|does not|don'?t|dont|won'?t|wont|will not|isn'?t|isnt|is not|not|stopped)\s+(?:\w+\s+)?"
    r"(?:work|working|scan|scanning|accepted)\b"
    r"|\b(?:can'?t|cannot|couldn'?t|unable to)\s+(?:use|swipe|scan|pay with)\b|\b(?:declined|refused)\b"
    r"|\b(?:card|it) (?:got|was) rejected\b|\b(?:won'?t|wouldn'?t|didn'?t|doesn'?t|does not|did not) go through\b",
    re.IGNORECASE,
)
# What makes a refusal a supposition: "挂失后是不是就不能用了", "will it be blocked after I report it".
_SUPPOSED = re.compile(
    r"如果|要是|万一|假如|会不会|是不是|以后|之后|后就|后还|\bif\b|\bwill\b|\bwould\b|\bafter\b|\bonce\b",
    re.IGNORECASE,
)


def card_refused(text: str) -> bool:
    """Whether the message says the card is refused or shown as blocked where it is used, as a fact
    the person met, not a supposition."""
    return any(not _SUPPOSED.search(text, max(m.start() - 12, 0), m.start()) for m in _REFUSED.finditer(text))


# Closing a card for good: "我要注销社保卡", "出国了卡怎么注销", "注销要带什么", "cancel my card completely,
# I'm leaving China", "close my social security card". Not a card found closed ("我的卡被注销了吗",
# "是不是注销了", "为什么注销了": its state).
_CLOSING_CARD = re.compile(
    r"(?<!被)(?<!已)(?<!经)(?<!是)(?<!没)(?<!未)注销(?!了|过)|销户"
    r"|\b(?:close|terminate|cancel|deactivate)\s+(?:my|the|his|her|this)\s+(?:social security\s+|ss\s+)?card\b"
    r"(?!\s+(?:loss|lost)\b)(?!'s\s+(?:loss|lost)\b)",
    re.IGNORECASE,
)


# Someone else acting for the holder, or whether the holder must come in person: "能让我妈代领吗",
# "社保卡补办 要本人去吗", "can my wife sign for it", "can someone else pick it up for me".
_PEOPLE = r"(?:妈|妈妈|母亲|爸|爸爸|父亲|老婆|妻子|老公|丈夫|爱人|家人|家属|儿子|女儿|孩子|朋友|亲戚|同事|别人|他人)"
_PROXY = re.compile(
    r"代(?:他|她|我)?(?:领|办|取|拿)|代为|委托|"
    rf"(?:让|叫|请|找)(?:我)?(?:的)?{_PEOPLE}(?:去|来|帮我|替我|帮忙){{0,2}}(?:领|拿|取|办)|"
    rf"{_PEOPLE}(?:能|可以|能不能|可不可以)?(?:去|来)?(?:帮我|替我|帮忙)(?:去)?(?:领|拿|取|办)|"
    rf"{_PEOPLE}(?:能|可以|能不能|可不可以)(?:去)?(?:领|拿|取|办)|"
    r"(?:要|需要|必须|一定要|得)本人(?:去|到场|亲自|来)?|本人(?:必须|一定要|需要)?(?:亲自)?(?:去|到场)"
    r"|\b(?:can|could|may)\s+(?:my\s+)?(?:wife|husband|son|daughter|mum|mom|mother|dad|father|friend|partner"
    r"|family(?: member)?|relative|someone else|somebody else|another person)\s+(?:pick|collect|get|sign|do|apply)"
    r"|\bon (?:my|his|her) behalf\b|\bproxy\b|\b(?:have|need) to (?:go|come|be there) myself\b"
    r"|\b(?:go|come|pick it up|collect it) (?:instead|for me|in my place)\b|\binstead of me\b"
    r"|\b(?:have|need|must)\b[^.?!]{0,20}\bin person\b",
    re.IGNORECASE,
)


# When the service halls are open: "那边几点开门？周六上班吗", "what are the office hours".
_HOURS = re.compile(
    r"几点|开门|关门|营业时间|办公时间|工作时间|上班时间"
    r"|(?:周六|周日|周末|星期六|星期天|礼拜[六天日]|节假日)(?:上班|开门|办公|营业|能办|可以办|办理|开不开|休息)"
    r"|\b(?:opening|office|business|working) hours\b|\bwhat time\b.{0,30}\b(?:open|close)"
    r"|\bopen (?:on )?(?:the )?(?:weekends?|saturdays?|sundays?)\b",
    re.IGNORECASE,
)


def for_the_hall(text: str) -> str | None:
    """The answer to a question about the service hall rather than the card: closing a card for good
    or someone else acting for the holder (settled there: where to ask), or when it is open; None
    for anything else. Such questions had been told "I can't answer that"."""
    if _CLOSING_CARD.search(text):
        return "utter_close_card"
    if _PROXY.search(text):
        return "utter_proxy"
    if _HOURS.search(text):
        return "utter_office_hours"
    return None


# A loss supposed, or asked about "just to know": "万一以后社保卡丢了该咋办", "if I ever lose my card,
# what's the procedure", "挂失了以后还要干嘛？我是问流程 不是现在要挂". ("社保卡挂失流程" alone is a
# loss report's question, as the training data has it.)
_LOSS_SUPPOSED = re.compile(
    r"(?:万一|如果|要是|假如|假设|哪天|以后|将来)\S{0,8}(?:丢|掉了|不见|被偷|挂失)"
    r"|\b(?:if (?:i|you|we|my \w+|someone|somebody) (?:ever|should|were to)|in case|what if|suppose|someday|one day)\b"
    r"[^.?!]{0,25}\b(?:los[et]|misplace\w*|stolen|steals?)\b",
    re.IGNORECASE,
)
_ONLY_ASKING = re.compile(
    r"就问问|只是问问|我是问|了解一下|先了解|不是现在要|\bjust (?:asking|curious)\b|\bonly asking\b",
    re.IGNORECASE,
)
_LOSS_WORDS = re.compile(
    r"丢|掉了|不见|被偷|挂失|\blos[et]\b|\bstolen\b|\breport\w* (?:it |a card |the card )?lost\b", re.IGNORECASE
)


# A loss that happened: "我卡丢了，挂失流程是什么" is a loss to report, whatever else it asks.
_LOSS_HAPPENED = re.compile(
    r"(?:卡|我)\S{0,4}(?:丢了|不见了|被偷了|找不到了)|\bi(?: have|'ve)? lost\b|\blost my\b|\bwas stolen\b",
    re.IGNORECASE,
)


def asks_how_loss_reporting_works(text: str) -> bool:
    """Whether the message asks what to do should the card be lost, not to report a loss now."""
    simplified = to_simplified(text)
    if _LOSS_SUPPOSED.search(simplified):
        return True
    return bool(
        _ONLY_ASKING.search(simplified) and _LOSS_WORDS.search(simplified) and not _LOSS_HAPPENED.search(simplified)
    )


_BANK = re.compile(r"银行|金融|\bbank", re.IGNORECASE)


def mentions_bank(text: str) -> bool:
    """Whether the message speaks of the card's bank (financial) side, which a loss report here
    does not cover."""
    return bool(_BANK.search(text))


def unblock_asked(text: str) -> int | None:
    """Where the message first asks to lift a loss report or says the card was found (the end of
    those words), or None."""
    said = min(
        (m for m in (_UNBLOCK_WORDS.search(text), _NO_LONGER_LOST.search(text), _found(text)) if m),
        key=lambda m: m.start(),
        default=None,
    )
    return said.end() if said else None


_WHERE_OR_WHAT_TO_BRING = re.compile(r"哪|地址|地点|带|\bwhere\b|\bbring\b|\baddress\b", re.IGNORECASE)


def asks_where_or_what_to_bring(text: str) -> bool:
    """Whether the message asks where to go or what to bring ("在哪里领", "要带什么证件", "where do I pick it up")."""
    return bool(_WHERE_OR_WHAT_TO_BRING.search(to_simplified(text)))


_PAUSE = re.compile(
    r"稍等|等一下|等一会|等等|等下|等我|我找一?下|我去找|我去拿|我拿一?下|我翻一?下|我看一?下|让我找找|找找看"
    r"|(?:让我|我)再?想一?想|考虑一下"
    r"|\b(?:hold on|hang on|wait|(?:just )?(?:a|one) (?:sec|second|moment|minute)"
    r"|let me (?:get|find|check|look|grab|think))\b",
    re.IGNORECASE,
)
_STOP = re.compile(
    r"算了|不用了|不要了|不查了|不办了|不挂了|取消|\b(?:cancel|forget it|never ?mind|stop)\b"
    r"|\bdon'?t (?:report|block|freeze|do) (?:it|that|anything)\b",
    re.IGNORECASE,
)


def says_stop(text: str) -> bool:
    """Whether the message says to stop ("算了", "不查了", "never mind")."""
    return bool(_STOP.search(to_simplified(text)))


def a_pause(text: str) -> bool:
    """Whether the person asks for a moment ("稍等一下，我去找身份证", "hold on, let me get my ID")
    and does not stop ("等一下，不查了") or ask something with it ("wait, does it block the bank
    part too?" is the question)."""
    simplified = to_simplified(text)
    return bool(_PAUSE.search(simplified)) and not _STOP.search(simplified) and not asks_something(simplified)


def without_pause_words(text: str) -> str:
    """The message with the words asking for a moment taken out (what else it says)."""
    return _PAUSE.sub(" ", to_simplified(text))


def asks_when(text: str) -> bool:
    """Whether the message asks how long something takes or when it happens."""
    return bool(_WHEN.search(to_simplified(text)))


def intent_payload(text: str) -> str | None:
    """The intent a message names as a button payload ("/affirm" -> ``affirm``), else None."""
    match = _INTENT_PAYLOAD.fullmatch(text.strip())
    return match.group(1) if match else None


# Words of an English sentence that no name is made of.
_ENGLISH_WORDS = frozenset(
    "my name is the a card lost id number please i im it's its and for of check report status hi hello her his".split()
)


def an_english_sentence(text: str) -> bool:
    """Whether details sent alone are written as an English sentence ("Lost my card, ID …, name
    Maria Garcia"), not only a Latin-script name or a number, which say nothing of the language."""
    words = {word.casefold() for word in re.findall(r"[A-Za-z']+", text)}
    return not _CJK.search(text) and len(words & _ENGLISH_WORDS) >= 2


def speaks_english(speech: str) -> bool:
    """Whether a recogniser's transcript is English speech (three English words or more, no
    Chinese): "hello do you speak English", "I lost my card"."""
    return detect_language(speech) == "en" and not _CJK.search(speech) and len(_LATIN_WORD.findall(speech)) >= 3


def _wants(zh_names: str, en_names: str) -> re.Pattern[str]:
    """A request for a language: "说中文吧", "我可以讲普通话吗", "有没有英文服务", "can I speak Chinese",
    "can we do this in Mandarin", "Mandarin please", "switch to English"."""
    return re.compile(
        rf"(?:(?:请|麻烦)?(?:你|您)?|我?(?:可以|能|想|要)?|(?:有没有|有))(?:说|讲|用|换成?|改成?|转)?(?:{zh_names})"
        r"(?:服务)?(?:吧|好吗|可以吗|行吗|吗)?"
        r"|(?:(?:can|could|may) (?:i|we) |(?:can|could|do|would) you |please |in |let'?s |"
        r"i (?:want|would like|'d like|prefer) to |i'?d like |do you have (?:an? )?)?"
        r"(?:speak |talk (?:in )?|use |switch (?:to )?|change (?:to )?|continue (?:in )?|do (?:this|it) )?(?:in )?"
        rf"(?:{en_names})(?: (?:service|line|option|speaker))?(?: please)?(?: instead)?",
        re.IGNORECASE,
    )


_WANTS_LANGUAGE = {"zh": _wants("中文|普通话|国语|汉语", "chinese|mandarin"), "en": _wants("英文|英语", "english")}
# What may be said around a request for a language without being anything more: "umm, Chinese
# please, 中文", "你好 有没有英文服务 English".
_AROUND_A_LANGUAGE = re.compile(
    r"\b(?:um+|uh+|er+|hi|hello|hey|ok|okay|sorry|please|the)\b|嗯|呃|额|那个|你好|您好|喂|请问|麻烦",
    re.IGNORECASE,
)


def phrase_forms(text: str) -> tuple[str, ...]:
    """A short reply as a set phrase is matched whole: punctuation and spaces folded to single spaces,
    and with Chinese in it also with no spaces (recognisers and typists put them anywhere)."""
    said = re.sub(r"[\s,，。.!！?？]+", " ", text).strip()
    return (said, said.replace(" ", "")) if _CJK.search(said) else (said,)


def requested_language(text: str) -> str | None:
    """``zh`` or ``en`` when the message asks for that language and says nothing else ("说中文吧",
    "can we do this in Mandarin?", "Can you switch to English please"), else None."""
    for language, wanted in _WANTS_LANGUAGE.items():
        for form in phrase_forms(text):
            if wanted.search(form) and not re.sub(r"\W", "", _AROUND_A_LANGUAGE.sub("", wanted.sub("", form))):
                return language
    return None


def other_language_asked(speech: str, current: str) -> str | None:
    """The other language (``zh`` or ``en``) when the speech asks for it and says nothing else."""
    wanted = requested_language(speech)
    return wanted if wanted != current else None


def detect_language(text: str) -> str | None:
    """``zh`` or ``en`` for the reply, or None when the message has no words (only digits, say,
    or a button's intent payload, which is the same in both languages) or only words typed in
    either language ("ok", "thx").

    A message with at least as many Chinese characters as Latin words is Mandarin, so mixed
    messages like "我的社保card丢了" are answered in Mandarin.
    """
    if intent_payload(text):
        return None
    cjk = len(_CJK.findall(text))
    words = _LATIN_WORD.findall(text)
    if cjk == 0 and all(word.casefold() in _EITHER_LANGUAGE for word in words):
        return None
    return "zh" if cjk >= len(words) else "en"


def format_date(moment: dt.datetime, language: str, tz: ZoneInfo) -> str:
    """A date as people read it in `tz`: ``2026年3月1日`` or ``1 March 2026``."""
    local = moment.astimezone(tz)
    if language == "en":
        return local.strftime("%d %B %Y").lstrip("0")
    return f"{local.year}年{local.month}月{local.day}日"
