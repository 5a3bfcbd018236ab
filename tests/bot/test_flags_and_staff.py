import pytest

from bot.review.accounts import StaffAccountError, add_staff_user, authenticate
from bot.review.flags import describe_flag, flag_conversation, list_flags


def test_flag_is_reused_while_open(session):
    first = flag_conversation(session, conversation_id="c1", channel="chat", reason="identity_failed")
    again = flag_conversation(session, conversation_id="c1", channel="chat", reason="identity_failed")
    other = flag_conversation(session, conversation_id="c1", channel="chat", reason="human_requested")
    assert first.id == again.id != other.id
    first.status = "reviewed"
    session.flush()
    assert flag_conversation(session, conversation_id="c1", channel="chat", reason="identity_failed").id != first.id


def test_unknown_reason_is_refused(session):
    with pytest.raises(ValueError):
        flag_conversation(session, conversation_id="c1", channel="chat", reason="bored")


def test_list_filters_and_describe(session, settings):
    flag_conversation(session, conversation_id="c1", channel="chat", reason="nlu_fallback")
    flag_conversation(session, conversation_id="c2", channel="voice", reason="call_dropped")
    session.commit()
    assert [f.conversation_id for f in list_flags(session, reason="call_dropped")] == ["c2"]
    assert len(list_flags(session, status="open")) == 2
    described = describe_flag(list_flags(session, reason="nlu_fallback")[0], settings.timezone)
    assert set(described) == {"id", "conversation_id", "channel", "reason", "status", "created"}
    assert described["created"].endswith("+08:00")
    with pytest.raises(ValueError):
        list_flags(session, status="closed")


def test_staff_user_password_is_hashed_and_checked(session):
    user = add_staff_user(session, username="li.reviewer", password="correct horse battery", role="reviewer")
    assert "correct horse" not in user.password_hash
    assert authenticate(session, username="li.reviewer", password="correct horse battery") is user
    assert authenticate(session, username="li.reviewer", password="wrong password") is None
    assert authenticate(session, username="nobody", password="correct horse battery") is None


@pytest.mark.parametrize(
    ("username", "password", "role"),
    [
        ("Li Reviewer", "long enough pw", "reviewer"),
        ("li", "short", "reviewer"),
        ("li", "long enough pw", "superuser"),
    ],
)
def test_bad_staff_requests(session, username, password, role):
    with pytest.raises(StaffAccountError):
        add_staff_user(session, username=username, password=password, role=role)


def test_duplicate_staff_user(session):
    add_staff_user(session, username="wang", password="long enough pw", role="admin")
    with pytest.raises(StaffAccountError):
        add_staff_user(session, username="wang", password="another long pw", role="reviewer")
