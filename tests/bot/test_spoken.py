from hypothesis import given
from hypothesis import strategies as st

from bot.language.spoken import normalise_number, normalise_numbers_in_text


def test_spoken_mobile_with_yao():
    assert normalise_number("幺三九幺二三四五六七八") == "13912345678"


def test_spoken_id_with_cha_and_dong_and_liang():
    assert normalise_number("三二洞幺洞两 一九九零 洞三洞七 一二三叉") == "32010219900307123X"


def test_aikesi_and_lower_case_x():
    assert normalise_number("11010519491231002x") == "11010519491231002X"
    assert normalise_number("1101051949123100二艾克斯") == "11010519491231002X"


def test_full_width_digits_and_dashes():
    assert normalise_number("１３９－１２３４－５６７８") == "13912345678"


def test_plus_prefix_survives_and_spaces_go():
    assert normalise_number(" +86 139 1234 5678 ") == "+8613912345678"


def test_guai_and_gou_are_seven_and_nine():
    assert normalise_number("拐勾") == "79"


def test_numbers_with_units_use_cn2an():
    assert normalise_number("一百二十三") == "123"


def test_running_text_keeps_ordinary_words():
    assert normalise_numbers_in_text("我想问一下进度") == "我想问一下进度"
    assert normalise_numbers_in_text("我要两张卡") == "我要两张卡"
    assert normalise_numbers_in_text("第一次办") == "第一次办"


def test_running_text_converts_numbers():
    text = "我身份证是三二零一零二一九九零零三零七一二三叉 名字张伟"
    assert normalise_numbers_in_text(text) == "我身份证是32010219900307123X 名字张伟"
    assert normalise_numbers_in_text("电话一三九 1234 五六七八谢谢") == "电话13912345678谢谢"


@given(st.text())
def test_normalise_number_never_raises_and_is_idempotent(text):
    once = normalise_number(text)
    assert normalise_number(once) == once


@given(st.text())
def test_running_text_never_raises(text):
    assert isinstance(normalise_numbers_in_text(text), str)


def test_mixed_numerals_cn2an_rejects_stay_as_they_are():
    for text in ("二十11号", "办了十12天", "一百零11"):
        assert isinstance(normalise_numbers_in_text(text), str)
        assert isinstance(normalise_number(text), str)


def test_chinese_punctuation_is_a_separator():
    assert normalise_number("一二三四。") == "1234"
