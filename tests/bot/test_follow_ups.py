import pytest

from bot.language.follow_ups import follow_up_aspect


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("那下一步呢", "next"),
        ("然后我该干嘛", "next"),
        ("ok so what now", "next"),
        ("what do I have to do then", "next"),
        ("要带啥证件", "documents"),
        ("需要准备哪些东西", "documents"),
        ("do I need to bring anything", "documents"),
        ("户口本行不行", "documents"),
        ("網上可以辦嗎", "channels"),  # traditional characters
        ("用手机上能弄不", "channels"),
        ("can I do this from home", "channels"),
        ("去哪儿办", "channels"),
        ("收不收钱", "cost"),
        ("is there a fee", "cost"),
        ("大概要几天", "time"),
        ("how long will that take", "time"),
        ("fee多少", "cost"),  # English and Chinese run together
        ("app上能弄吗", "channels"),
    ],
)
def test_a_question_that_names_no_topic_asks_about_a_part_of_the_one_before(text, aspect):
    assert follow_up_aspect(text) == aspect


@pytest.mark.parametrize(
    "text",
    [
        "补卡要带什么",  # names its topic: the replacement
        "激活要钱吗",
        "how do I apply online",
        "我卡丢了怎么办",
        "查一下进度要多久",
        "能让我老公代领吗",  # who may act is the service hall's to say
        "几点下班",
        "do I have to go in person or can my son go",
        "好的谢谢",
        "嗯",
        "",
        "我想问一下，我之前在外地上班，现在回来了，这边的医保要怎么弄，有没有什么要注意的地方",  # a request of its own
    ],
)
def test_a_question_with_a_topic_of_its_own_or_none_at_all_is_not_a_follow_up(text):
    assert follow_up_aspect(text) is None


@pytest.mark.parametrize(
    ("text", "topic", "aspect"),
    [
        ("在哪激活", "activate", "channels"),  # the topic just explained may be named
        ("在哪激活", "replace", None),  # another may not
        ("补办要多少钱", "replace", "cost"),
        ("申请完了呢", "apply", "next"),
        ("没备案咋办", "cross_region", "next"),
    ],
)
def test_a_follow_up_may_use_the_words_of_the_topic_just_explained(text, topic, aspect):
    assert follow_up_aspect(text, topic) == aspect
