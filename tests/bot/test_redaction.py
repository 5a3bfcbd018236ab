"""Masking personal data for display, and replacing it with fictitious values for training data."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.identity.idnumbers import is_valid_id_number, with_check_character
from bot.identity.privacy import mask_name, mask_phone, mask_reference
from bot.language.extraction import extract_numbers
from bot.language.redaction import mask_text, scrub_text

ID = "320102198605257079"


def test_masks_follow_the_console_format():
    assert mask_phone("+8613900001007") == "+86 139******07"
    assert mask_phone("+442079460000") == "+44********00"
    assert mask_name("赵敏") == "赵*"
    assert mask_name("Maria Garcia") == "M**** G*****"


def test_every_form_of_an_id_number_is_masked():
    for said in (
        ID,
        "3201 0219 8605 2570 79",
        "３２０１０２１９８６０５２５７０７９",
        "三二零幺零二幺九八六零五二五七零七九",
    ):
        masked = mask_text(f"我的身份证是{said}谢谢")
        assert "3201**********7079" in masked and "谢谢" in masked
        assert "198605" not in masked


def test_phones_digits_and_names_are_masked():
    masked = mask_text("我是赵敏，电话 139-0000-1007，尾号1007，卡号A00000007", names={"赵敏"})
    assert "赵敏" not in masked and "赵*" in masked
    assert "+86 139******07" in masked
    assert "1007，卡号" not in masked and "尾号****" in masked
    assert "A00000007" not in masked
    assert mask_text("查一下进度") == "查一下进度"  # nothing personal: left as typed


def test_scrubbed_text_keeps_its_shape_with_fictitious_values():
    scrubbed = scrub_text(f"身份证{ID} 手机13900001007 我叫赵敏", names={"赵敏"}, rng=random.Random(7))
    assert ID not in scrubbed and "13900001007" not in scrubbed and "赵敏" not in scrubbed
    found = extract_numbers(scrubbed)
    assert len(found.id_numbers) == 1 and is_valid_id_number(found.id_numbers[0])  # still reads as an ID
    assert len(found.phone_numbers) == 1  # and as a phone
    assert scrubbed.startswith("身份证") and "我叫" in scrubbed


@given(st.text(alphabet="0123456789 -", min_size=0, max_size=12), st.text(max_size=20))
def test_no_id_number_survives_scrubbing(noise, words):
    """Whatever surrounds it, a real ID number never reaches the training data."""
    id_number = with_check_character("11010519900307101")
    text = f"{words}{noise}{id_number}{noise}"
    assert id_number not in scrub_text(text, rng=random.Random(1))
    assert id_number not in mask_text(text)


@pytest.mark.parametrize(
    "said",
    [
        "三二零一零二一九八五零三一二一零一六",  # spoken, one check digit off
        "320 102 198 503 121 016",
        "three two zero one zero two one nine eight five zero three one two one zero one six",
        "三二零一零二一九八503121016",
        "3,2,0,1,0,2,1,9,9,0,0,3,0,7,1,0,1,6",
        "尾号五六七八",
        "一二三 四五六七 八九零一",
    ],
)
def test_wrong_spoken_and_grouped_numbers_are_masked_entirely(said):
    masked = mask_text(said)
    assert not any(ch.isdigit() for ch in masked), masked
    assert not any(ch.isdigit() for ch in mask_text(f"电话13900001001，身份证{said}").split("身份证")[1])


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("我叫张 伟", "张伟"),
        ("张\u200b伟", "张伟"),
        ("我是張偉", "张伟"),
        ("Maria  Garcia", "Maria Garcia"),
        ("mariagarcia", "Maria Garcia"),
        ("GARCIA Maria", "Maria Garcia"),
        ("it's Garcia here", "Maria Garcia"),
        ("ＭＡＲＩＡ ＧＡＲＣＩＡ", "Maria Garcia"),
        ("艾力·买买提", "艾力买买提"),
        ("我姓张，叫小伟", "张小伟"),
        ("ﬁrst I am Weiß", "Weiß"),  # folding changes the length (ﬁ -> fi, ß -> ss)
    ],
)
def test_names_are_found_across_spacing_case_width_and_script(said, name):
    masked = mask_text(said, {name})
    assert "*" in masked, masked
    scrubbed = scrub_text(said, {name}, rng=random.Random(3))
    for part in ("伟", "偉", "garcia", "买买提", "小伟", "weiß"):
        if part in said.casefold() and part != said.casefold():
            assert part not in scrubbed.casefold(), scrubbed
    assert mask_text("我想办一张卡", {name}) == "我想办一张卡"  # a surname alone is not masked


@given(
    st.lists(st.integers(min_value=0, max_value=9), min_size=18, max_size=18),
    st.lists(st.sampled_from(["", " ", "-", ", ", " - "]), min_size=17, max_size=17),
    st.booleans(),
)
def test_eighteen_digits_never_survive_however_grouped(digits, gaps, spoken):
    words = "零一二三四五六七八九"
    text = digits_text = ""
    for i, d in enumerate(digits):
        text += (words[d] if spoken else str(d)) + (gaps[i] if i < 17 else "")
        digits_text += str(d)
    shown = "".join(ch for ch in mask_text(f"号码{text}好的") if ch.isdigit())
    assert digits_text[4:14] not in shown
    assert digits_text not in "".join(ch for ch in scrub_text(text, rng=random.Random(0)) if ch.isdigit())


@pytest.mark.parametrize(
    "said",
    [
        "请拨打 12333 咨询。",
        "请拨打１２３３３咨询。",
        "工作时间：工作日 9:00-12:00、13:30-17:00（节假日除外）",
        "临时挂失有效期至 2026年12月7日，请在此之前办理。",
        "valid until 7 December 2026, weekdays 9:00-17:00",
        "工本费 20 元，5 分钟内有效，您还可以尝试 2 次。",
        "办理日期 2026-12-07，或 2026/12/7。",
        "请输入18位身份证号码，X 请按星号。",
    ],
)
def test_what_is_not_personal_stays_exactly_as_written(said):
    assert mask_text(said) == said


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("我的身份证是３２０１０２１９８６０５２５７０７９，谢谢！", "我的身份证是3201**********7079，谢谢！"),
        ("电话：１３９ ０００ ０１００７。", "电话：+86 139******07。"),
        ("挂失编号：4540067156。请牢记。", "挂失编号：******7156。请牢记。"),
        ("（卡号：A00000007）", "（卡号：A********）"),
    ],
)
def test_personal_numbers_are_masked_and_the_punctuation_around_them_kept(said, shown):
    assert mask_text(said) == shown


def test_a_loss_reference_is_masked_by_the_same_rule_wherever_it_is_shown():
    reference = "4540067156"
    assert mask_text(f"Reference {reference}.") == f"Reference {mask_reference(reference)}."
    assert mask_reference(reference) == "******7156"


@pytest.mark.parametrize(
    "said", ["1007", "五六七八", "482913", "尾号是1007", "验证码 482913", "the last four are 1007"]
)
def test_the_digits_people_prove_who_they_are_with_are_masked(said):
    assert not any(ch.isdigit() for ch in mask_text(said)) and "*" in mask_text(said)
