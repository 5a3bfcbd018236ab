"""Whole conversations that must end right: the right card, verification that ends when the person
leaves, and details taken as people write them. Each test has its own fictional cardholders."""

import pytest

from bot.identity.privacy import mask_name

pytestmark = pytest.mark.e2e

# (ID number, name, card number, status); every number is fictional with a valid check character.
HOLDERS = {
    "child": ("320106198001010070", "韩子墨", "C10000001", "active"),
    "father": ("320106198001020148", "韩建国", "C10000002", "active"),
    "en_self": ("320106198001030215", "Lin Haoran", "C10000003", "shipped"),
    "en_mother": ("320106198001040288", "Song Meiling", "C10000004", "under_review"),
    "leaver": ("320106198001050355", "方晓雯", "C10000005", "ready_for_pickup"),
    "sms_leaver": ("320106198001060422", "邓海涛", "C10000006", "in_production"),
    "one_message": ("320106198001070495", "蒋一鸣", "C10000007", "shipped"),
    "latin": ("320106198001080562", "Tang Yuxi", "C10000008", "ready_for_pickup"),
    "typo": ("32010619800109063X", "卫思远", "C10000009", "in_production"),
    "helped": ("320106198001110709", "Ruan Qing", "C10000010", "submitted"),
    "small_talk": ("320106198001130785", "Sunny Lam", "C10000012", "active"),
    "unplaced": ("320106198001140799", "Joy Wong", "C10000013", "active"),
    "details_first": ("320106198001120771", "Xia Yutong", "C10000011", "in_production"),
}


@pytest.fixture(scope="module")
def holders(stack, tmp_path_factory) -> dict[str, tuple[str, str, str, str]]:
    lines = ["id_number,name,phone,card_number,status,region,office,updated_at"]
    for i, (id_number, name, card, status) in enumerate(HOLDERS.values()):
        lines.append(
            f"{id_number},{name},139000077{i:02d},{card},{status},320100,玄武区社会保障卡服务中心,2026-02-01T09:00:00+08:00"
        )
    path = tmp_path_factory.mktemp("scope") / "cards.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = stack.cli("cards", "import", str(path))
    assert result.returncode == 0, result.stderr
    return HOLDERS


def names_card(texts: list[str], holder) -> bool:
    """Some reply names this holder's card as a person can check it: masked name and last digits."""
    _, name, card, _ = holder
    return any(mask_name(name) in t and card[-4:] in t for t in texts)


def verify(stack, sender, request, holder, metadata=None) -> list[str]:
    id_number, name, *_ = holder
    stack.say(sender, request, metadata)
    stack.say(sender, id_number, metadata)
    return stack.say(sender, name, metadata)


def test_another_persons_id_number_gets_its_own_check_and_answers_name_the_card(stack, holders):
    child, father = holders["child"], holders["father"]
    sender = "e2e-scope-father"
    assert names_card(verify(stack, sender, "查一下我的社保卡进度", child), child)
    asked = stack.say(sender, f"我父亲的社保卡不见了，帮他办挂失，他的身份证是{father[0]}")
    assert not names_card(asked, child) and not any("确认挂失" in t for t in asked), asked
    assert any("姓名" in t for t in asked), asked
    warning = stack.say(sender, father[1])
    assert names_card(warning, father) and any("确认挂失" in t for t in warning), warning
    done = stack.say(sender, "确认")
    assert names_card(done, father), done
    assert stack.card(father[0])["status"] == "loss_reported" and stack.card(child[0])["status"] == "active"


def test_progress_for_another_id_number_is_not_the_verified_persons(stack, holders):
    me, mother = holders["en_self"], holders["en_mother"]
    sender = "e2e-scope-mother"
    assert names_card(verify(stack, sender, "where is my card application at?", me), me)
    stack.say(sender, f"my mum's ID number is {mother[0]}")
    asked = stack.say(sender, "how is her application going?")
    assert not names_card(asked, me) and any("name" in t for t in asked), asked
    answer = stack.say(sender, mother[1])
    assert names_card(answer, mother) and any("under review" in t for t in answer), answer


def test_goodbye_ends_the_verification(stack, holders):
    holder = holders["leaver"]
    sender = "e2e-scope-goodbye"
    assert names_card(verify(stack, sender, "我的卡办好了没有", holder), holder)
    stack.say(sender, "好的再见")
    again = stack.say(sender, "查进度")
    assert not names_card(again, holder) and any("身份证" in t for t in again), again


def test_an_ended_chat_keeps_nothing_verified(stack, holders):
    """POST /chat/end sends the old conversation this goodbye before the browser gets a new one."""
    holder = holders["one_message"]
    sender = "e2e-scope-ended"
    assert names_card(stack.say(sender, f"{holder[1]} {holder[0]} 查进度"), holder)  # name and ID in one message
    stack.say(sender, "/goodbye")
    again = stack.say(sender, "查进度")
    assert not names_card(again, holder) and any("身份证" in t for t in again), again


def test_goodbye_by_sms_ends_the_verification_of_the_number(stack, holders):
    holder = holders["sms_leaver"]
    sms = {"channel": "sms"}
    sender = "e2e-scope-sms"
    assert names_card(verify(stack, sender, "查询社保卡进度", holder, sms), holder)
    stack.say(sender, "谢谢，再见", sms)
    again = stack.say(sender, "进度怎么样了", sms)
    assert not names_card(again, holder) and any("身份证" in t for t in again), again


def test_id_number_then_a_latin_name_in_one_message(stack, holders):
    holder = holders["latin"]
    sender = "e2e-scope-latin"
    stack.say(sender, "can I pick up my card yet?")
    answer = stack.say(sender, f"{holder[0]} {holder[1]}")
    assert names_card(answer, holder) and any("ready for pickup" in t for t in answer), answer


def test_a_corrected_name_is_taken(stack, holders):
    holder = holders["typo"]
    sender = "e2e-scope-typo"
    stack.say(sender, "帮我查社保卡办理进度")
    stack.say(sender, holder[0])
    failed = stack.say(sender, "卫思元")
    assert any("2 次" in t for t in failed) and any("姓名" in t for t in failed), failed  # the name again
    answer = stack.say(sender, f"不好意思打错了，是{holder[1]}")
    assert names_card(answer, holder) and any("制卡中" in t for t in answer), answer


def test_questions_about_the_id_number_are_answered_and_the_check_goes_on(stack, holders):
    holder = holders["helped"]
    sender = "e2e-scope-help"
    stack.say(sender, "has my card application been received?")
    where = stack.say(sender, "I'm not sure what my ID number is")
    assert any("front of the resident ID card" in t for t in where), where
    why = stack.say(sender, "and why do you need it?")
    assert any("protect" in t for t in why), why
    wrong_check = stack.say(sender, holder[0][:-1] + ("1" if holder[0][-1] != "1" else "2"))
    assert any("doesn't check out" in t for t in wrong_check), wrong_check
    stack.say(sender, holder[0])
    answer = stack.say(sender, f"sorry, typo: it's {holder[1]}")
    assert names_card(answer, holder) and any("received" in t for t in answer), answer


def test_details_first_then_the_request(stack, holders):
    holder = holders["details_first"]
    sender = "e2e-scope-details-first"
    asked = stack.say(sender, f"{holder[0]} {holder[1]}")
    assert len(asked) == 1 and ("What would you like to do" in asked[0] or "办理什么业务" in asked[0]), asked
    answer = stack.say(sender, "check my card progress please")
    assert names_card(answer, holder) and any("in production" in t for t in answer), answer


@pytest.mark.parametrize("who", ["small_talk", "unplaced"])
def test_a_latin_name_the_classifier_misreads_still_verifies(stack, holders, who):
    """Two-word names read as chit-chat, a question or nothing at all reach the identity check."""
    holder = holders[who]
    sender = f"e2e-scope-{who}"
    stack.say(sender, "what is the status of my card?")
    stack.say(sender, holder[0])
    answer = stack.say(sender, holder[1])
    assert names_card(answer, holder) and any("active" in t for t in answer), answer
