import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.language.text import (
    a_pause,
    an_english_sentence,
    asks_how_loss_reporting_works,
    asks_something,
    detect_language,
    normalise_for_understanding,
    other_language_asked,
    speaks_english,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的社會保障卡掛失了", "我的社会保障卡挂失了"),
        ("设保卡丢了怎么挂是", "社保卡丢了怎么挂失"),
        ("社保卡怎么解卦", "社保卡怎么解挂"),
        ("查一下近度", "查一下进度"),
        ("我的蛇保卡丢了", "我的社保卡丢了"),
        ("社保咖怎么激活", "社保卡怎么激活"),
        ("張社保咭唔見咗", "张社保卡唔见咗"),
        ("醫保咭", "医保卡"),
        ("社保卡刮失", "社保卡挂失"),
        ("瓜失社保卡", "挂失社保卡"),
        ("社保卡解刮", "社保卡解挂"),
        ("刮胡子", "刮胡子"),
        ("西瓜是甜的", "西瓜是甜的"),
        ("电话幺三九幺二三四五六七八", "电话13912345678"),
        ("ｍｙ ｃａｒｄ", "my card"),
        ("我想问一下", "我想问一下"),
        ("直接挂失吧", "直接挂失吧"),
        ("算了不办了", "算了不办了"),
    ],
)
def test_normalise_for_understanding(text, expected):
    assert normalise_for_understanding(text) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我的社保卡丢了", "zh"),
        ("I lost my card", "en"),
        ("我的社保card丢了", "zh"),
        ("how to 挂失", "zh"),
        ("how do I report my card 丢了", "en"),
        ("11010519491231002X", None),
        ("", None),
        ("/affirm", None),  # a button's payload: the same in either language
        ("/check_progress", None),
        ("/affirm please", "en"),
        ("ok", None),  # typed as often in a Mandarin conversation as in an English one
        ("thx!", None),
        ("OK thanks", None),
        ("ok, how do I activate it", "en"),
        ("thank you", "en"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


@given(st.text(max_size=80))
def test_normalising_never_crashes(text):
    assert isinstance(normalise_for_understanding(text), str)


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("Lost my card, ID 932250198005200126, name Maria Garcia", True),
        ("my name is Wang Lei", True),
        ("Maria Garcia", False),  # a name says nothing of the language
        ("Garcia Maria 932250198005200126", False),
        ("ID 320102198503121015", False),
        ("我叫 Maria Garcia, my id", False),
    ],
)
def test_details_written_as_an_english_sentence(text, english):
    assert an_english_sentence(text) is english


@pytest.mark.parametrize(
    ("speech", "english"),
    [
        ("hello do you speak English", True),
        ("I lost my card", True),
        ("ok ok", False),
        ("OK 我要挂失", False),
        ("", False),
    ],
)
def test_english_speech(speech, english):
    assert speaks_english(speech) is english


@pytest.mark.parametrize(
    ("text", "pause"),
    [
        ("稍等一下啊 我去找一下身份证", True),
        ("hold on let me get my ID card", True),
        ("等一下，不查了", False),
        ("张伟", False),
        ("wait, does reporting it lost also block the bank part?", False),
        ("等一下 要收费吗", False),
    ],
)
def test_a_pause(text, pause):
    assert a_pause(text) is pause


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("那银行那边要不要也去解", True),  # A-not-A: a question, never a no or a goodbye
        ("是不是要带身份证", True),
        ("有没有别的办法", True),
        ("可不可以代领", True),
        ("不对不对", False),  # a repeated no is not 对不对
        ("不不不", False),
        ("没有没有", False),
        ("好的谢谢", False),
        ("那现在是挂失了没有", True),
        ("那我找不到再打过来是吧", True),
        ("好吧", False),
    ],
)
def test_a_not_a_questions_ask_something(text, asks):
    assert asks_something(text) is asks


@pytest.mark.parametrize(
    ("speech", "current", "wanted"),
    [
        ("Chinese please", "en", "zh"),
        ("can you speak Mandarin", "en", "zh"),
        ("can I speak Chinese?", "en", "zh"),  # once taken for a request for staff
        ("我可以讲英语吗", "zh", "en"),
        ("can we do this in Mandarin?", "en", "zh"),
        ("umm, Chinese please, 中文", "en", "zh"),  # said twice, with fillers
        ("你好 有没有英文服务 English", "zh", "en"),
        ("我想用英文", "zh", "en"),
        ("说中文吧", "en", "zh"),
        ("English please", "zh", "en"),
        ("麻烦说英语", "zh", "en"),
        ("do you speak English", "zh", "en"),
        ("Chinese", "zh", None),  # already in it
        ("my name is Chinese", "en", None),  # more than a request for the language
        ("我要挂失", "zh", None),
        ("中文 我要查进度", "en", None),  # a request of its own, in the language it names
    ],
)
def test_a_request_for_the_other_language(speech, current, wanted):
    assert other_language_asked(speech, current) == wanted


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("问一下哈 万一以后社保卡丢了该咋办 先了解下", True),
        ("挂失了以后还要干嘛？我是问流程 不是现在要挂", True),
        ("just curious - if I ever lose my card, what's the procedure?", True),
        ("我的卡丢了", False),
        ("我卡丢了，挂失流程是什么", False),  # a loss told
        ("I lost my card, if I found it later could I still use it", False),
        ("我要挂失", False),
    ],
)
def test_how_loss_reporting_works_is_asked_when_a_loss_is_supposed_or_the_procedure_asked(text, asks):
    assert asks_how_loss_reporting_works(text) is asks
