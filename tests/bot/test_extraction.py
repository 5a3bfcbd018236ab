import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.language.extraction import (
    corrected_number,
    extract_numbers,
    id_number_attempt,
    normalise_message,
    the_corrected_digits,
)

ID = "11010519491231002X"
MOBILE = "+8613912345678"


@pytest.mark.parametrize(
    "text",
    [
        f"身份证{ID}",
        "我的身份证号是 110105 19491231 002x 谢谢",
        "证件号：１１０１０５１９４９１２３１００２Ｘ",
        "幺幺洞幺洞五幺九四九幺两三幺洞洞两叉",
        "嗯 那个 一一零一零五 一九四九一二三一 零零二 艾克斯",
        "it's one one zero one zero five one nine four nine one two three one zero zero two, letter x",
        "一一零一零五 嗯 一九四九一二三一 那个 零零二叉",  # fillers between the pieces read out
        "one one zero one zero five um one nine four nine one two three one zero zero two x",
    ],
)
def test_id_number_in_any_form(text):
    assert extract_numbers(text).id_numbers == [ID]


@pytest.mark.parametrize(
    "text",
    [
        "手机13912345678",
        "电话是 139-1234-5678",
        "+86 139 1234 5678",
        "0086 13912345678",
        "(+86)13912345678",
        "幺三九 幺二三四 五六七八",
        "one three nine one two three four five six seven eight",
        "one three nine double one ... no wait, one three nine one two three four five six seven eight",
    ],
)
def test_mobile_in_any_form(text):
    assert MOBILE in extract_numbers(text).phone_numbers


def test_landline_with_area_code():
    assert extract_numbers("座机 010-6512 3456").phone_numbers == ["+861065123456"]


def test_id_and_phone_in_one_message():
    found = extract_numbers(f"我叫张伟，身份证{ID}，电话 139 1234 5678")
    assert found.id_numbers == [ID]
    assert found.phone_numbers == [MOBILE]


@pytest.mark.parametrize(
    "text",
    ["尾号5678", "我叫王芳", "110105194912310020", "我想问一下进度", "第一次办卡要两张照片"],
)
def test_nothing_that_is_not_a_valid_number(text):
    found = extract_numbers(text)
    assert found.id_numbers == [] and found.phone_numbers == []


def test_ordinary_words_stay_words():
    assert normalise_message("I have one question about two cards") == "I have one question about two cards"
    assert normalise_message("我想问一下") == "我想问一下"


@given(st.text(max_size=60))
def test_never_crashes_on_anything(text):
    found = extract_numbers(text)
    assert all(len(v) == 18 for v in found.id_numbers)
    assert all(v.startswith("+") for v in found.phone_numbers)


def test_card_numbers_with_letters():
    assert extract_numbers("卡号是a12345678").card_numbers == ["A12345678"]
    assert extract_numbers("card number 3K0012345 please").card_numbers == ["3K0012345"]
    assert extract_numbers("password1").card_numbers == []  # a word, not a card number
    assert extract_numbers("13912345678").card_numbers == []


def test_spans_point_into_the_normalised_text():
    found = extract_numbers("电话 139 1234 5678 好的")
    (phone,) = found.found
    assert found.text[phone.start : phone.end] == "139 1234 5678"
    spoken = extract_numbers("电话 幺三九 1234 五六七八")
    assert spoken.text[spoken.found[0].start : spoken.found[0].end] == "13912345678"


@pytest.mark.parametrize(
    ("answer", "digits"),
    [
        ("one zero two one, no sorry, one zero one two", "1012"),
        ("幺零二幺 不对不对 是幺零幺二", "1012"),
        ("1021 1012", None),  # two numbers, nothing taken back: which one is meant is not known
        ("1012", None),
    ],
)
def test_digits_taken_back_are_replaced_by_the_later_ones(answer, digits):
    assert the_corrected_digits(answer) == digits


@pytest.mark.parametrize(
    ("answer", "number"),
    [
        ("三二零一零四 一九八八 一一二零 三零三八 不对不对 是三零三一", "320104198811203031"),
        ("320104198811203038, sorry, 3031", "320104198811203031"),
        ("320104198811203031", None),  # nothing corrected
        ("3201 不对 3202", None),  # too short to be a number with its end said again
    ],
)
def test_the_end_of_a_long_number_said_again_after_a_correction_replaces_it(answer, number):
    assert corrected_number(answer) == number


@pytest.mark.parametrize(
    ("text", "attempt"),
    [
        ("我是陈静 身份证320102198808085015 卡做好了没", "320102198808085015"),  # wrong check character
        ("3201 0219 8808 0850 5", "32010219880808505"),  # one character short
        ("32010219880808505x", "32010219880808505X"),
        ("320102198808085051", None),  # valid
        ("+8613900001001", None),  # a phone number
        ("card B87654321", None),
    ],
)
def test_a_number_meant_as_an_id_number_that_is_not_one(text, attempt):
    assert id_number_attempt(text) == attempt
