"""What people write when the identity check asks for their details: names, and questions about it.

Names come as an answer to "what is the full name", or beside an ID number.

People write the name with lead-ins (``我叫张伟``), fillers and particles as they speak (``哦，是张伟啊``,
``嗯 张伟本人``, ``Zhang Wei, thanks``), after an apology for a typo (``哦打错了，是张伟``,
``sorry typo, it's Zhang Wei``) or in one message with the ID number and the request
(``张伟 320102… 查进度``, ``320102… Zhang Wei``). A name is only taken beside an ID number when
exactly one part of the message looks like a name and holds no word of a request or of the card.
"""

from __future__ import annotations

import itertools
import re

from bot.language.extraction import normalise_message
from bot.language.text import QUESTION_ZH, asks_something, phrase_forms

# Lead-ins people put before their name when asked for it.
_NAME_LEAD_INS = re.compile(
    r"^\s*(?:(?:我的|她的|他的|持卡人的?)?(?:名字|姓名)(?:是|叫|:|：)?|我叫|我是说|我说的是|我的意思是|我是|她叫|他叫|"
    r"持卡人(?:是|叫)|本人|叫|应该是|正确的是|是说|是|"
    r"(?:my|her|his|their|the cardholder's) name is|(?:my|her|his|their) name's|the name is|name is|name:|name(?=\s)|"
    r"the cardholder is|i am|i'm|it's|it is|this is|she is|he is|she's|he's|"
    r"it should be|should be|i meant|it was meant to be)\s*",
    re.IGNORECASE,
)
# Fillers before the answer ("哦，", "嗯 ", "um "), however many. "Oh" and "OK" only with a comma or
# the like after them: Oh is a surname too.
_FILLERS = re.compile(
    r"^\s*(?:(?:(?:哦|噢|喔|嗯|呃|额|啊|唉|哎|诶|欸|那个|就是)[\s,，、.。!！~…]*|"
    r"(?:um+|uh+|erm)(?![A-Za-z])[\s,，.。!！…]*|(?:oh|ok|okay)[,，.。!！…]+\s*))+",
    re.IGNORECASE,
)
# Punctuation, a particle or "本人" after a Chinese name of two characters or more ("张伟啊",
# "张伟本人"), thanks after a Latin one.
_NAME_TAIL = re.compile(
    r"(?:[\s。.!！,，~…]|(?<=[\u3400-\u9fff]{2})(?:啊|呀|吧|呢|哦|嘛|啦|本人)|"
    r"(?<![A-Za-z])(?:thanks|thank you|thx|please|pls)(?![A-Za-z]))+$",
    re.IGNORECASE,
)
# An apology or correction before the right value: "不好意思打错了，是", "sorry typo, it's".
_CORRECTION = re.compile(
    r"^\s*(?:(?:不好意思|抱歉|对不起|sorry|oops|apologies|my mistake|my bad|correction)[\s,，、:：!！.。\-–—]*)*"
    r"(?:(?:(?:刚才|前面|上面)?(?:那个|名字|姓名)?(?:打错|写错|输错|搞错|弄错|说错)(?:字)?了?|错了(?:错了)?|不对(?:不对)?|更正一下|纠正一下|"
    r"(?:that was |there was |it was |i made )?a typo|typo|i mistyped(?: it)?|i misspelled it|wrong name)"
    r"[\s,，、:：!！.。\-–—]*)*",
    re.IGNORECASE,
)
_APOLOGY_OR_FIX = re.compile(
    r"不好意思|抱歉|对不起|打错|写错|输错|搞错|弄错|说错|错了|不对|更正|纠正|我是说|我说的是|sorry|oops|"
    r"apologies|my mistake|my bad|correction|typo|mistyped|misspelled|wrong name|i meant"
    r"|^(?:不是|不叫)[\u3400-\u9fff]{2,4}[\s,，、]+\S",
    re.IGNORECASE,
)
# A character of the name explained after it: "李娜，娜是女字旁", "黄磊 磊是三个石头", "陈静，静是安静的静".
_CHARACTER_EXPLAINED = re.compile(r"[，,、\s]+[\u3400-\u9fff]字?(?:是|就是|为)[^，,。.]{1,12}$")
# The wrong name named first: "不是张三，是张伟" ("not Zhang San" after the name: `_NOT_THIS`).
_NOT_THAT_NAME = re.compile(r"^(?:不是|不叫)[\u3400-\u9fff]{2,4}[\s,，、]+(?:而?是|叫)?")
# A name in pinyin and in characters, either first ("Zhou Jie 周杰", "周杰（Zhou Jie）"): the characters.
_PINYIN_AND_HAN = re.compile(
    r"[A-Za-z][A-Za-z' \-]*?[\s,，.。、]*[(（]?\s*([\u3400-\u9fff]{2,4})\s*[)）]?"
    r"|([\u3400-\u9fff]{2,4})[\s,，.。、]*[(（]?\s*[A-Za-z][A-Za-z' \-]*[)）.。]?"
)
_NOT_THIS = re.compile(r"[\s,，。.!！]*(?:才对|才是|(?:我)?(?:打|写|输|说)错了|\bnot\b.*)$", re.IGNORECASE)

# A run of digits (an ID number, with its separators and check character) in a message; an X
# that starts a word ("Xia") is not a check character.
_NUMBER_RUN = re.compile(r"[0-9０-９](?:[0-9０-９\s\-－]|[xXｘＸ](?![A-Za-z]))*")
# Parts of a message: split at punctuation (not at the apostrophe of "I'm" or "O'Neil"), at wide
# gaps, and at a space between Chinese words ("杨帆 我的卡办好了没").
_PARTS = re.compile(r"[,，。.;；:：!！?？、\n/|()（）\[\]【】\"“”]+|\s{2,}|(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_HAN_NAME = re.compile(r"[\u3400-\u9fff]{2,4}|[\u3400-\u9fff]{2,8}[·•][\u3400-\u9fff]{2,8}")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z'\-]*(?: [A-Za-z][A-Za-z'\-]*){1,3}")
# Characters of requests, the card and chat that are never part of a name beside an ID number.
_NOT_IN_HAN_NAME = set(
    "的了吗呢吧啊呀我你他她它们查询进度挂失解丢卡号码证帮要想请问办理谢再见好是在哪补换申领激活啥怎谁么什"
)
_NOT_LATIN_NAME_WORDS = frozenset(
    """a an and are at be can card check cancel could do does for find from get have hello help hi how i id
    in is it lost loss me my name need no not number of on please progress report reported security social
    status stolen that the this to unblock want what where why with yes you your thanks thank ok okay sorry
    bye goodbye hey dear sir madam good morning afternoon evening night there sure fine great cool
    alright right fast slow very much mine mother father mum mom dad wife husband son daughter mr mrs ms miss
    dr pick up ready collect collected know tell see use used done go going come again already today now
    here yet still just when will would should was were been has had his her him they them we us our their
    its as by or but if so out about any some all also new old one pls plz u ur im i'm dont cant hospital
    bank office phone mobile apply application replace activate neighbor neighbour boss friend never mind
    nevermind forget stop quit wait hold later she asked ask asks told said say says wanted needs checking
    got think like make made take took give gave send sent try work works working picked moms mums dads
    mother's father's mom's mum's dad's wife's husband's""".split()
)


def name_from_answer(text: str) -> str:
    """The name in an answer to "what is the full name" (``我叫张伟。`` -> ``张伟``,
    ``哦打错了，是张伟啊`` -> ``张伟``)."""
    stripped = _FILLERS.sub("", text.strip())
    if _APOLOGY_OR_FIX.search(stripped):
        stripped = _NOT_THIS.sub("", _CORRECTION.sub("", stripped, count=1))
    stripped = _CHARACTER_EXPLAINED.sub("", stripped)
    name = _NAME_TAIL.sub("", _NAME_LEAD_INS.sub("", _NOT_THAT_NAME.sub("", stripped, count=1))).strip()
    both = _PINYIN_AND_HAN.fullmatch(name)
    return (both.group(1) or both.group(2)) if both else name


# Someone else's card, or simply another one: "我老婆的也查一下", "再帮我儿子查一下", "再查一个", "also
# check my wife's card". The other person must own what is asked about: "让我老公帮我去领" is not it.
_PEOPLE_ZH = (
    "老婆|妻子|爱人|老公|丈夫|媳妇|我妈|妈妈|母亲|老妈|我爸|爸爸|父亲|老爸|老人|孩子|儿子|女儿|闺女|家人|家里人|"
    "亲戚|朋友|同事|别人|他人|他|她"
)
_PEOPLE_EN = "wife|husband|mother|mom|mum|father|dad|parents?|son|daughter|child|kids?|friend|colleague|partner"
_SOMEONE_ELSE = re.compile(
    rf"(?:{_PEOPLE_ZH})的|帮(?:我)?(?:{_PEOPLE_ZH})(?:查|看|问)|再查一(?:个|张|下别的)|另(?:一|外一)(?:张|个人|位)|"
    rf"\b(?:{_PEOPLE_EN})'s\b|\bfor my (?:{_PEOPLE_EN})\b|\b(?:his|her|their) (?:card|application)\b|"
    r"\bsome(?:one|body) else\b|\banother (?:card|person|one)\b",
    re.IGNORECASE,
)


def corrected_name(text: str) -> str | None:
    """The name in a correction ("不对，打错了，是王芳", "sorry, typo: Bai Xue"), which the classifier
    often takes for a no; None when the message corrects nothing or holds no name."""
    if not _APOLOGY_OR_FIX.search(text):
        return None
    name = name_from_answer(text)
    return name if could_be_a_name(name) else None


def about_someone_else(text: str) -> bool:
    """Whether a request speaks of another person's card (or simply another card)."""
    return bool(_SOMEONE_ELSE.search(text))


# Characters of questions and requests that no registered name is made of.
_NEVER_IN_A_NAME = set("吗呢么什怎啥哪谁了没别查办")
# Words of a sentence about the name, never in one: "名字不知道 我是他领导", "他是我爸" (not knowing:
# `does_not_know`).
_NEVER_A_NAME_WORDS = re.compile("不清楚|名字|姓名|我是|他是|她是|我的|他的|她的")
_ASKS = re.compile(QUESTION_ZH)
_SPACE_IN_HAN = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def could_be_a_name(text: str) -> bool:
    """Whether an answer to the name question could be a registered name at all: a Chinese name
    (two to eight characters, or joined with ·) or a Latin-script one. A sentence ("为什么没通过啊
    照片不行吗", "算了不查了 拜拜") is not checked, so it never costs an identity attempt."""
    han = _SPACE_IN_HAN.sub("", text.strip())
    if _HAN_NAME.fullmatch(han) or re.fullmatch(r"[\u3400-\u9fff]{2,8}", han):
        return not (
            _NEVER_IN_A_NAME & set(han) or _ASKS.search(han) or _NEVER_A_NAME_WORDS.search(han) or does_not_know(han)
        )
    return looks_like_latin_name(text)


def looks_like_latin_name(text: str) -> bool:
    """Two to four Latin words, none of them a word of a request or of chat ("Zhao Min", not "hi there")."""
    words = text.strip().split()
    return bool(_LATIN_NAME.fullmatch(" ".join(words))) and not any(
        w.casefold() in _NOT_LATIN_NAME_WORDS for w in words
    )


def _name_in(part: str) -> str | None:
    candidate = name_from_answer(part)
    if _HAN_NAME.fullmatch(candidate) and not _NOT_IN_HAN_NAME & set(candidate):
        return candidate
    if looks_like_latin_name(candidate):
        return " ".join(candidate.split())
    return None


def name_alone(text: str) -> str | None:
    """The name when a message is nothing but a name, with its lead-ins (``我叫杨帆``, ``Xia Yu``)."""
    return _name_in(text.strip())


# A run of Han characters standing alone between Latin words, digits or punctuation.
_HAN_RUN = re.compile(r"(?<![\u3400-\u9fff])[\u3400-\u9fff]{2,4}(?![\u3400-\u9fff])")


def without_han_names(text: str) -> str:
    """The message with each run of Han characters that could be a name taken out: a Chinese name
    in an English message ("check status 陈静 3201…") says nothing of the reply language. With fewer
    than two English words there is no English message ("fee多少", "app上可以不" are Mandarin)."""
    if len(re.findall(r"[A-Za-z]{2,}", text)) < 2:
        return text  # "异地" or "陈静" alone is Mandarin
    return _HAN_RUN.sub(lambda m: " " if _name_in(m.group()) else m.group(), text)


def name_beside_id(text: str) -> str | None:
    """The name in a message that also holds an ID number, if exactly one part of it is a name.

    ``我叫杨帆，身份证320104…`` -> ``杨帆``; ``320102… Zhao Min`` -> ``Zhao Min``;
    ``320102… Zhao Min check my card`` -> ``Zhao Min``; ``我爸的社保卡丢了，身份证320104…`` -> None
    (no part is a name).
    """
    if not _NUMBER_RUN.search(text):
        return None
    parts = [p.strip() for chunk in _NUMBER_RUN.split(text) for p in _PARTS.split(chunk)]
    names = {name for part in parts if part and (name := _name_in(_strip_id_words(part)) or _latin_name_at_end(part))}
    han = {name for name in names if _HAN_NAME.fullmatch(name)}
    if len(names) == 2 and len(han) == 1:
        return han.pop()  # "Zhang Wei, 张伟": the name in pinyin and in characters
    if len(names) != 1:
        return None
    return names.pop()


# Words that introduce one's own name in a request ("你好，我叫陈静，想查下进度", "my name is Maria
# Garcia, I lost my card"); "I'm"/"this is" only before capitalised words ("I'm calling because…" is no name).
_INTRODUCED = re.compile(r"(?:我叫|我的名字(?:是|叫)|本人(?:叫|是)?|(?:my )?name(?: is|'s|:))\s*", re.IGNORECASE)
_INTRODUCED_CAPITALISED = re.compile(r"(?:i am|i'm|this is)\s+(?=[A-Z])", re.IGNORECASE)
_GREETING = re.compile(r"^(?:你好|您好|喂|hi|hello|hey)\b\s*", re.IGNORECASE)


def introduced_name(text: str) -> str | None:
    """The person's own name introduced in a request that has no ID number, if one part of it is that."""
    names, parts = set(), [_GREETING.sub("", _FILLERS.sub("", p.strip())) for p in _PARTS.split(text)]
    for part, after in zip(parts, [*parts[1:], ""], strict=True):
        lead = _INTRODUCED.match(part) or _INTRODUCED_CAPITALISED.match(part)
        rest = (part[lead.end() :] or after) if lead else ""  # "我叫 李娜": the name in the next part
        if rest and (name := _name_in(rest)):
            names.add(name)
    return names.pop() if len(names) == 1 else None


# The registered mobile's last four digits said beside the ID number ("…5044 手机尾号1004", "last
# four digits are 1012"): the next question's answer, already given.
_LAST_FOUR_BESIDE = re.compile(
    r"(?:尾号|尾数|后\s*[4四]\s*位|last\s+(?:four|4)(?:\s+digits)?|\bend(?:s|ing)?\s+(?:in|with))"
    r"\D{0,24}?(?<!\d)(\d(?:\s?\d){3})(?!\s?\d)",
    re.IGNORECASE,
)


# "号码不对", "wrong number": the ID number read back with the last-four question was misheard.
_ID_NUMBER_WRONG = re.compile(
    r"(?:哎呀|唉|啊|嗯|呃|不对)*(?:不对|错了|不是|(?:身份证)?(?:号码|号)(?:不对|错了|有误|说错了|听错了|不是)"
    r"|(?:说|念|读|听)错了)(?:了|啊|呀|吧|的|不对)*(?:取消|重来|重新来|重新说|我重新说)?(?:吧|一下|一遍)?"
    r"|(?:no,? )?(?:wrong(?: number| id(?: number)?)?"
    r"|that'?s (?:(?:the )?wrong(?: number| id(?: number)?)?|not right|not it|not my (?:id|number))"
    r"|(?:the |my )?(?:id|number|id number) is wrong|incorrect|not right)",
    re.IGNORECASE,
)


# Said anywhere in the reply, the ID number read back was misheard ("不是 你听错了 最后是四零四六"):
# whatever digits follow correct it, they are not the phone's.
_MISHEARD = re.compile(
    r"听错|听岔|身份证(?:号码?)?(?:不对|错了|说错了)|\bmisheard\b|\bheard (?:it |that |me )?wrong\b"
    r"|\b(?:id|id number) (?:is|was) wrong\b",
    re.IGNORECASE,
)
# Not knowing the answer asked for: "我不记得了", "he's got a new phone", "I don't know it".
_DO_NOT_KNOW = re.compile(
    r"不知道|不晓得|不记得|记不清|记不得|忘了|想不起|换号|换手机|新手机|\bdon'?t know\b|\bdo not know\b|\bnot sure\b"
    r"|\bcan'?t remember\b|\bforgot\b|\bno idea\b|\bnew (?:phone|number)\b",
    re.IGNORECASE,
)


def says_id_number_wrong(text: str) -> bool:
    """Whether a reply to the last-four question says the ID number read back is wrong: nothing
    more ("号码不对", "wrong number"), or that it was misheard, whatever follows."""
    return bool(_MISHEARD.search(text)) or any(_ID_NUMBER_WRONG.fullmatch(form) for form in phrase_forms(text))


# Said of the card just answered about: "号码不对", "不是我的卡", "you got the wrong number". Unlike a
# reply to the last-four question, a bare "不对" is not enough: after an answer it is a no.
_CARD_WAS_WRONG = re.compile(
    r"(?:号码?|卡|身份证)(?:\S{0,3})(?:不对|错了|有误)|(?:不是|并非)我的(?:卡|号)|(?:听|说|念|读)错了"
    r"|\bwrong (?:number|id|card)\b|\bnot my (?:card|id|number)\b|\bmisheard\b",
    re.IGNORECASE,
)


def says_card_was_wrong(text: str) -> bool:
    """Whether a message after an answer about a card says it was the wrong card or ID number."""
    return bool(_CARD_WAS_WRONG.search(text))


def does_not_know(text: str) -> bool:
    """Whether the reply says the person does not know (or no longer has) what was asked."""
    return bool(_DO_NOT_KNOW.search(text))


def last_four_beside_id(text: str) -> str | None:
    """The phone's last four digits named as such in a message that gives the ID number, if any."""
    match = _LAST_FOUR_BESIDE.search(normalise_message(text))
    return re.sub(r"\s", "", match.group(1)) if match else None


def _latin_name_at_end(part: str) -> str | None:
    """A Latin name that starts or ends a run-on part before or after a request, where no comma
    sets it apart: the words up to the first word of a request or of chat, or after the last."""
    words = part.split()
    # The end of a question is its object, not a name: "is my card ready for pick up".
    for edge in (words,) if asks_something(part) else (words, words[::-1]):
        run = list(itertools.takewhile(lambda w: w.casefold() not in _NOT_LATIN_NAME_WORDS, edge))
        if run and len(run) < len(words) and looks_like_latin_name(" ".join(run)):
            return " ".join(run if edge is words else run[::-1])
    return None


_ID_WORDS = re.compile(
    r"(?:(?:我的)?身份证(?:号码|号)?(?:是|:|：)?|证件号(?:码)?(?:是)?|社会保障号(?:码)?|"
    r"(?:my )?id(?: number| no\.?)?(?: is)?|查(?:一下|下)?(?:进度|办理进度)|进度)",
    re.IGNORECASE,
)


def _strip_id_words(part: str) -> str:
    """A part without the words that introduce the ID number or name a request at its ends
    ("身份证", "ID", "查进度"), so ``杨帆 身份证`` gives ``杨帆``."""
    previous = None
    while previous != part:
        previous = part
        part = part.strip()
        for pattern in (rf"^{_ID_WORDS.pattern}", rf"{_ID_WORDS.pattern}$"):
            part = re.sub(pattern, "", part, flags=re.IGNORECASE).strip()
    return part


_WHY = re.compile(
    r"为什么|为啥|干什么|干嘛|做什么用|安全吗|\bwhy\b|what (?:do you need|is it) .*for|is it safe", re.IGNORECASE
)
_WHERE = re.compile(
    r"不知道|不清楚|不确定|不记得|记不(?:住|清)|忘(?:了|记)|在哪|哪里|去哪|怎么(?:查|找)|不在身边|"
    r"\b(?:don'?t|do not|doesn'?t) (?:know|remember|have)|can'?t (?:remember|find)|forgot|"
    r"not sure|unsure|no idea|where",
    re.IGNORECASE,
)
_ABOUT_THE_ID = re.compile(r"身份证|证件|号码|\bid\b|\bnumber\b|\bit\b|\bthis\b", re.IGNORECASE)


_NAMES_THE_ID = re.compile(r"身份证|证件号|\bid\b|\bid number\b", re.IGNORECASE)


def id_number_unknown(text: str) -> bool:
    """Whether a message, wherever it comes, says the person does not know their ID number or asks
    where to find it ("I'd like to check my application but I don't remember my ID number")."""
    return bool(_NAMES_THE_ID.search(text)) and id_number_question(text) == "where"


def id_number_question(text: str) -> str | None:
    """``"why"`` or ``"where"`` when the message asks why the ID number is needed or says the
    person does not know it / where to find it; None otherwise (an answer, or something else)."""
    if not _ABOUT_THE_ID.search(text) or _NUMBER_RUN.search(text):
        return None
    if _WHY.search(text):
        return "why"
    if _WHERE.search(text):
        return "where"
    return None
