"""Merging reviewed labels into the training data: refusals, one file per intent, all or nothing."""

import shutil

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bot.training.labels import labelled_examples
from bot.training.nlu_merge import (
    DATA_DIR,
    HELDOUT_DIR,
    REVIEWED_MARKER,
    LabelledExample,
    MergeError,
    comparable,
    heldout_forms,
    merge_labels,
    plan_merge,
    read_intent_examples,
    write_merge,
)
from tests.factories import add_flag


@pytest.fixture
def data_dir(tmp_path):
    """A copy of the project's training data to merge into."""
    return shutil.copytree(DATA_DIR, tmp_path / "nlu")


def heldout_message(filename: str, intent: str) -> str:
    return next(text for i, text in read_intent_examples([HELDOUT_DIR / filename]) if i == intent)


def test_held_out_messages_and_their_near_copies_are_refused():
    heldout = heldout_forms()
    zh = heldout_message("wild_zh.yml", "report_loss")
    en = heldout_message("en.yml", "check_progress")
    labels = [
        LabelledExample(1, "report_loss", zh),
        LabelledExample(2, "report_loss", zh.replace("，", " ").replace("。", "!") + "啊"),  # punctuation, a filler
        LabelledExample(3, "check_progress", en.upper() + "??"),
        LabelledExample(4, "report_loss", "我那张绿色的卡卡昨晚在菜市场弄没了咋办嘛"),
    ]
    result = plan_merge(labels, training=[], heldout=heldout)
    assert [(r.label_id, r.reason) for r in result.refused] == [(1, "held_out"), (2, "held_out"), (3, "held_out")]
    assert result.added == {"report_loss": ["我那张绿色的卡卡昨晚在菜市场弄没了咋办嘛"]}


def test_traditional_characters_and_other_numbers_are_the_same_phrasing():
    assert comparable("我的社會保障卡丟了，身份證110101199003070011") == comparable(
        "我的社会保障卡丢了 身份证320102198605257079"
    )


def test_conflicts_and_duplicates():
    training = [("thank", "谢谢帮忙"), ("deny", "先不用了")]
    labels = [
        LabelledExample(1, "greet", "哈喽哈喽小助手在不在线"),
        LabelledExample(2, "request_human", "哈喽哈喽小助手在不在线"),  # the same message, another intent
        LabelledExample(3, "thank", "谢谢帮忙!"),  # already in the training data
        LabelledExample(4, "affirm", "先不用了"),  # the training data says deny
        LabelledExample(5, "cancel_loss", "卡在沙发底下找着了 那个挂失能撤回不"),
        LabelledExample(6, "cancel_loss", "卡在沙发底下找着了，那个挂失能撤回不？"),  # twice among the labels
        LabelledExample(7, "greet", "？！"),
    ]
    result = plan_merge(labels, training=training, heldout=[])
    assert [(r.label_id, r.reason) for r in result.refused] == [
        (1, "conflicting_labels"),
        (2, "conflicting_labels"),
        (4, "in_training_as_deny"),
        (7, "empty"),
    ]
    assert result.skipped == 2
    assert result.added == {"cancel_loss": ["卡在沙发底下找着了 那个挂失能撤回不"]}


@pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # pykwalify, under Rasa's reader
def test_examples_go_to_the_intents_file_in_one_reviewed_block(data_dir):
    before = (data_dir / "thank.yml").read_text(encoding="utf-8")
    write_merge({"thank": ["多谢你帮我查清楚了 不然我还得跑一趟"]}, data_dir)
    write_merge({"thank": ["thx a lot, saved me a trip"], "deny": ["算了算了 这个先不弄"]}, data_dir)
    text = (data_dir / "thank.yml").read_text(encoding="utf-8")
    assert text.startswith(before) and text.count(REVIEWED_MARKER) == 1
    training = RasaYAMLReader().reads(text)
    thanks = {m.get("text") for m in training.intent_examples if m.get("intent") == "thank"}
    assert {"多谢你帮我查清楚了 不然我还得跑一趟", "thx a lot, saved me a trip"} <= thanks
    assert "算了算了 这个先不弄" in (data_dir / "deny.yml").read_text(encoding="utf-8")
    assert not list(data_dir.glob("*.partial"))


def test_a_bad_intent_writes_nothing(data_dir):
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    with pytest.raises(MergeError):
        write_merge({"affirm": ["好嘞就这么办"], "bogus": ["x"]}, data_dir)
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before


def test_labels_from_the_review_queue_merge_once(session, reviewer, data_dir):  # noqa: F811
    from bot.models import NluLabel

    flag = add_flag(session, conversation="web-merge")
    for message_id, intent, text in [
        ("m1", "replace_card", "卡片芯片读不出来了 医院说要换张新的 怎么弄"),
        ("m2", "greet", heldout_message("zh.yml", "greet")),
    ]:
        session.add(NluLabel(flag_id=flag.id, conversation_id="web-merge", message_id=message_id, text=text,
                             predicted_intent="nlu_fallback", intent=intent, labelled_by=reviewer.id))  # fmt: skip
    session.flush()
    first = merge_labels(labelled_examples(session), data_dir=data_dir)
    assert first.added == {"replace_card": ["卡片芯片读不出来了 医院说要换张新的 怎么弄"]}
    assert [r.reason for r in first.refused] == ["held_out"]
    again = merge_labels(labelled_examples(session), data_dir=data_dir)
    assert again.added == {} and again.skipped == 1
