import pytest

from bot.identity.answers import (
    about_someone_else,
    corrected_name,
    could_be_a_name,
    id_number_question,
    introduced_name,
    last_four_beside_id,
    looks_like_latin_name,
    name_beside_id,
    name_from_answer,
    says_card_was_wrong,
    says_id_number_wrong,
)

ID = "320104199201306062"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (f"我叫林小雨，身份证{ID}", "林小雨"),
        (f"宋文 {ID} 查进度", "宋文"),
        (f"{ID} Qian Lu", "Qian Lu"),
        (f"{ID} Xia Yu", "Xia Yu"),
        (f"{ID[:-1]}x Xia Yu", "Xia Yu"),
        (f"身份证号是{ID}，姓名白雪", "白雪"),
        (f"my name is Qian Lu, ID {ID}", "Qian Lu"),
        (f"{ID} Qian Lu what is the status of my card", "Qian Lu"),
        (f"please check my card status Qian Lu {ID}", "Qian Lu"),
        (f"{ID} please check my card status", None),
        (f"Hi, I'm Qian Lu, ID {ID}, can you check my card status?", "Qian Lu"),
        (f"{ID} 林小雨 我的卡办好了没", "林小雨"),
        (f"Mary O'Neil {ID}", "Mary O'Neil"),
        (f"我妈的社保卡找不到了，帮她挂失，身份证{ID}", None),
        (f"check my mother's card progress, ID {ID}", None),
        (f"{ID} 查进度", None),
        (f"{ID} hello there", None),
        ("宋文", None),  # no ID number: not a name beside one
        (f"宋文 {ID} 白雪", None),  # two candidates: neither is taken
        (f"不对，我打错了，是{ID}", None),  # a corrected ID number, and no name
        (f"不对 {ID}", None),
        (f"I want to know if my mum's card is ready. Her ID is {ID}, name 白雪", "白雪"),
        (f"{ID} Bai Xue, 白雪", "白雪"),  # in pinyin and in characters
        (f"我的申请被拒了？？为啥啊 {ID} 白雪", "白雪"),  # 为啥 is no name
    ],
)
def test_name_beside_an_id_number(text, name):
    assert name_beside_id(text) == name


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("抱歉，刚才输错了，应该是钱璐", "钱璐"),
        ("不好意思 写错了 是白雪才对", "白雪"),
        ("sorry, typo - it's Qian Lu", "Qian Lu"),
        ("oops my mistake, should be Bai Xue", "Bai Xue"),
        ("sorry, I meant Bai Xue not Bai Xuan", "Bai Xue"),
        ("白雪", "白雪"),
        ("不对，是钱璐", "钱璐"),
        ("哦不对 我是说钱璐", "钱璐"),
        ("不是钱路，是钱璐", "钱璐"),  # the wrong one named first
        ("不是钱路 钱璐", "钱璐"),
        ("哦不对 是李娜，娜是女字旁", "李娜"),  # a character explained after the name
        ("黄磊 磊是三个石头", "黄磊"),
    ],
)
def test_a_correction_gives_the_right_name(answer, name):
    assert name_from_answer(answer) == name
    assert corrected_name(answer) in {name, None}  # None: "白雪" alone corrects nothing


@pytest.mark.parametrize("answer", ["Bai Xue 白雪", "白雪 Bai Xue", "白雪（Bai Xue）"])
def test_a_name_in_pinyin_and_characters_is_the_name_in_characters(answer):
    assert name_from_answer(answer) == "白雪"


@pytest.mark.parametrize("answer", ["不是", "不是我", "不是的", "不是我的卡"])
def test_a_no_is_no_corrected_name(answer):
    assert corrected_name(answer) is None


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("哦打错了，是钱璐", "钱璐"),
        ("嗯，是白雪啊", "白雪"),
        ("呃 我叫宋文", "宋文"),
        ("就是林小雨吧", "林小雨"),
        ("我是白雪本人", "白雪"),
        ("um, it's Qian Lu, thanks", "Qian Lu"),
        ("Okay. Bai Xue please", "Bai Xue"),
        ("Oh Min Ji", "Oh Min Ji"),  # a surname, not a filler
        ("那英", "那英"),  # 那 starts a name here, not 那个
        ("张啊", "张啊"),  # one character left is no name: nothing is cut
        ("Her name is 白雪", "白雪"),  # someone asking for a parent or child
        ("她叫林小雨", "林小雨"),
        ("持卡人是宋文", "宋文"),
        ("his name is Qian Lu", "Qian Lu"),
    ],
)
def test_fillers_and_particles_around_a_name(answer, name):
    assert name_from_answer(answer) == name


def test_latin_names_and_small_talk():
    assert looks_like_latin_name("Qian Lu") and looks_like_latin_name("Mary Ann O'Neil")
    assert not looks_like_latin_name("hi there") and not looks_like_latin_name("good evening")
    assert not looks_like_latin_name("Qian") and not looks_like_latin_name("Qian 3")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("身份证号我记不清了", "where"),
        ("I forgot my ID number", "where"),
        ("为啥要提供身份证号码", "why"),
        ("why do you need this?", "why"),
        (ID, None),
        ("白雪", None),
    ],
)
def test_questions_about_the_id_number(text, kind):
    assert id_number_question(text) == kind


@pytest.mark.parametrize(
    ("text", "someone_else"),
    [
        ("我老婆的也查一下", True),
        ("再帮我儿子查一下", True),
        ("再查一个", True),
        ("can you also check my wife's card?", True),
        ("and for my mother", True),
        ("可以让我老公帮我去领吗", False),  # he would collect her card: it is still hers
        ("我老公说卡丢了", False),
        ("查一下我的进度", False),
        ("when can I collect it, my husband asks", False),
    ],
)
def test_a_request_about_someone_elses_card(text, someone_else):
    assert about_someone_else(text) is someone_else


@pytest.mark.parametrize(
    ("answer", "name"),
    [("张伟", True), ("赵 敏", True), ("阿依古丽·买买提", True), ("李不凡", True), ("Maria Garcia", True)]
    + [
        ("为什么没通过啊 照片不行吗", False),
        ("算了不查了 拜拜", False),
        ("那我重新交材料要去哪", False),
        ("Zhao", False),
        ("哦那还要等多久", False),
        ("名字不知道 我是他领导", False),
        ("我不知道他名字", False),
        ("i am her neighbor", False),
    ],
)
def test_only_what_could_be_a_name_is_checked_as_one(answer, name):
    assert could_be_a_name(name_from_answer(answer)) is name


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("查进度 身份证三二零一一三一九九五零二一五四零四六 手机尾号一零零四", "1004"),
        ("身份证320113199502154046，后四位是1004", "1004"),
        ("my ID is 932250198005200126 and the last four digits are one zero one two", "1012"),
        ("身份证320113199502154046", None),
        ("320113199502154046 尾号12345", None),  # five digits are no last four
        ("my id is 932250198005200126 and the phone ends in zero zero one two", "0012"),
        ("932250198005200126, the last four digits of my phone are one zero zero two", "1002"),
    ],
)
def test_the_last_four_named_beside_the_id_number(text, digits):
    assert last_four_beside_id(text) == digits


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("号码不对", True),
        ("不对不对", True),
        ("哎呀 说错了 取消", True),
        ("No, that's wrong.", True),
        ("that's the wrong number", True),  # what the spoken prompt tells callers to say
        ("the ID is wrong", True),
        ("不对，尾号1004", False),  # a corrected answer, not a wrong ID number
        ("不是 你听错了 最后是四零四六", True),  # misheard: the digits correct the ID number
        ("取消", False),
        ("不是我", False),
        ("我不记得了", False),
    ],
)
def test_an_id_number_said_to_be_wrong(text, wrong):
    assert says_id_number_wrong(text) is wrong


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Is my card ready for pick up? 320102198808085051", None),  # a question's end is no name
        ("is it ready yet 320102198808085051 Chen Jing", "Chen Jing"),
        ("ID: 320104198811203031 Name: 李娜", "李娜"),
    ],
)
def test_the_end_of_a_question_beside_the_id_number_is_not_a_name(text, name):
    assert name_beside_id(text) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("你好，我叫陈静，想查下我的社保卡到哪了", "陈静"),
        ("嗯 我叫 李娜 查进度", "李娜"),
        ("my name is Maria Garcia, I lost my card", "Maria Garcia"),
        ("hi this is Zhao Min, check my card", "Zhao Min"),
        ("I'm calling because my card is lost", None),
        ("我是来挂失的", None),
        ("我是外地人 卡丢了", None),  # "我是" introduces many things besides a name
        ("我叫陈静的妈妈", None),
    ],
)
def test_a_name_introduced_in_a_request(text, name):
    assert introduced_name(text) == name


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("号码不对", True),
        ("不对 这不是我的卡", True),
        ("no, you got the wrong number", True),
        ("不对", False),  # after an answer, a bare no is a no
        ("没有了 谢谢", False),
    ],
)
def test_a_card_said_to_be_the_wrong_one_after_its_answer(text, wrong):
    assert says_card_was_wrong(text) is wrong
