import pytest
from cryptography.fernet import Fernet

from bot.config import init_env_file, load_settings
from bot.errors import ConfigError

BASE = {"ID_HASH_KEY": "k" * 64, "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode()}


def test_defaults():
    settings = load_settings({**BASE}, env_file=None)
    assert settings.loss_policy.validity_days == 7
    assert settings.loss_policy.self_service_unblock is True
    assert settings.loss_policy.max_identity_attempts == 3
    assert settings.loss_policy.verification_idle_minutes == 5
    assert settings.timezone.key == "Asia/Shanghai"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("var/cards.db")


def test_environment_values():
    settings = load_settings(
        {
            **BASE,
            "DATABASE_URL": "postgresql://x/y",
            "LOSS_REPORT_VALIDITY_DAYS": "15",
            "SELF_SERVICE_UNBLOCK": "no",
            "VERIFICATION_IDLE_MINUTES": "10",
        },
        env_file=None,
    )
    assert settings.database_url == "postgresql://x/y"
    assert settings.loss_policy.validity_days == 15
    assert settings.loss_policy.self_service_unblock is False
    assert settings.loss_policy.verification_idle_minutes == 10


@pytest.mark.parametrize(
    "override",
    [
        {"LOSS_REPORT_VALIDITY_DAYS": "seven"},
        {"LOSS_REPORT_VALIDITY_DAYS": "0"},
        {"SELF_SERVICE_UNBLOCK": "maybe"},
        {"CITY_TIMEZONE": "Mars/Olympus"},
        {"DATA_ENCRYPTION_KEY": "not-a-key"},
        {"ID_HASH_KEY": ""},
        {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32},  # an account without a number or messaging service
        {"SMS_MAX_ATTEMPTS": "0"},
        {"VERIFICATION_IDLE_MINUTES": "0"},
    ],
)
def test_bad_values_are_named(override):
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **override}, env_file=None)
    assert next(iter(override)) in str(caught.value) or "ID_HASH_KEY" in str(caught.value)


def test_environment_overrides_env_file(tmp_path):
    path = tmp_path / ".env"
    path.write_text("LOSS_REPORT_VALIDITY_DAYS=3\nIDENTITY_MAX_ATTEMPTS=5\n")
    settings = load_settings({**BASE, "IDENTITY_MAX_ATTEMPTS": "4"}, env_file=path)
    assert settings.loss_policy.validity_days == 3
    assert settings.loss_policy.max_identity_attempts == 4


def test_env_file_created_with_secrets_and_completed(tmp_path):
    path = tmp_path / ".env"
    path.write_text("DATABASE_URL=sqlite:///x.db")
    added = init_env_file(path)
    assert "FLASK_SECRET_KEY" in added and "DATA_ENCRYPTION_KEY" in added
    content = path.read_text()
    assert content.startswith("DATABASE_URL=sqlite:///x.db\n")
    assert init_env_file(path) == []
    assert path.read_text() == content
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_sms_settings():
    assert not load_settings({**BASE}, env_file=None).sms.configured  # the local sink
    sms = load_settings(
        {
            **BASE,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "t" * 32,
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9999/",
            "PUBLIC_BASE_URL": "https://cards.example.org/",
        },
        env_file=None,
    ).sms
    assert sms.configured and sms.api_base_url == "http://127.0.0.1:9999"
    assert sms.status_callback_url == "https://cards.example.org/twilio/sms-status"
