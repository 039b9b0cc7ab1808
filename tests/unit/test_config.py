"""Settings: the documented environment names, safe defaults, and refusals that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from veo31.config import load_settings
from veo31.errors import ConfigurationError

CONTRACT_NAMES = [
    "KIE_API_KEY",
    "KIE_BASE_URL",
    "KIE_UPLOAD_BASE_URL",
    "GEMINI_API_KEY",
    "VEO31_DATA_DIR",
    "VEO31_DATABASE_URL",
    "VEO31_PUBLIC_URL",
    "VEO31_HOST",
    "VEO31_PORT",
    "VEO31_API_TOKENS",
    "VEO31_ALLOW_PRIVATE_URLS",
    "VEO31_DEFAULT_PROVIDER",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in CONTRACT_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults_need_no_account() -> None:
    settings = load_settings()
    assert settings.kie_api_key is None and settings.gemini_api_key is None
    assert settings.kie_base_url == "https://api.kie.ai"
    assert settings.kie_upload_base_url == "https://kieai.redpandaai.co"
    assert settings.data_dir == Path("./data")
    assert settings.resolved_database_url.startswith("sqlite:///") and settings.resolved_database_url.endswith(
        "data/veo31.db"
    )
    assert settings.public_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.api_tokens == [] and settings.allow_private_urls is False
    assert settings.default_provider == "auto"


def test_every_contract_name_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "KIE_API_KEY": "kie-secret-value-1234",
        "KIE_BASE_URL": "http://127.0.0.1:8100/",
        "KIE_UPLOAD_BASE_URL": "http://127.0.0.1:8101",
        "GEMINI_API_KEY": "gemini-secret-value-1234",
        "VEO31_DATA_DIR": "/tmp/veo31-data",
        "VEO31_DATABASE_URL": "postgresql://db/veo31",
        "VEO31_PUBLIC_URL": "https://veo31.example.com/",
        "VEO31_HOST": "0.0.0.0",
        "VEO31_PORT": "9000",
        "VEO31_API_TOKENS": "alpha-token, beta-token ,",
        "VEO31_ALLOW_PRIVATE_URLS": "true",
        "VEO31_DEFAULT_PROVIDER": "kie",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.kie_api_key is not None and settings.kie_api_key.get_secret_value() == "kie-secret-value-1234"
    assert settings.gemini_api_key is not None
    assert settings.kie_base_url == "http://127.0.0.1:8100"
    assert settings.kie_upload_base_url == "http://127.0.0.1:8101"
    assert settings.data_dir == Path("/tmp/veo31-data")
    assert settings.resolved_database_url == "postgresql://db/veo31"
    assert settings.public_url == "https://veo31.example.com"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert [token.get_secret_value() for token in settings.api_tokens] == ["alpha-token", "beta-token"]
    assert settings.allow_private_urls is True and settings.default_provider == "kie"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KIE_API_KEY=from-dotenv-file-123\nVEO31_PORT=8123\n")
    settings = load_settings()
    assert settings.kie_api_key is not None and settings.kie_api_key.get_secret_value() == "from-dotenv-file-123"
    assert settings.port == 8123


def test_secrets_do_not_show_in_repr_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIE_API_KEY", "kie-secret-value-1234")
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-secret-value-1234")
    monkeypatch.setenv("VEO31_API_TOKENS", "token-secret-value-1234")
    settings = load_settings()
    for text in (repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json()):
        assert "secret-value" not in text


def test_blank_key_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIE_API_KEY", "   ")
    assert load_settings().kie_api_key is None


def test_open_bind_without_tokens_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEO31_HOST", "0.0.0.0")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "VEO31_API_TOKENS" in caught.value.message and "127.0.0.1" in caught.value.message


def test_any_origin_on_an_open_bind_without_tokens_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEO31_HOST", "0.0.0.0")
    monkeypatch.setenv("VEO31_CORS_ORIGINS", "*")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "VEO31_CORS_ORIGINS=*" in caught.value.message and "VEO31_API_TOKENS" in caught.value.message
    monkeypatch.setenv("VEO31_API_TOKENS", "a-token-of-some-length")
    assert load_settings().cors_origins == ["*"]


def test_cors_origins_are_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEO31_CORS_ORIGINS", "null, https://shop.example.com/ ,http://localhost:3000")
    assert load_settings().cors_origins == ["null", "https://shop.example.com", "http://localhost:3000"]
    monkeypatch.setenv("VEO31_CORS_ORIGINS", "shop.example.com/page")
    with pytest.raises(ConfigurationError, match="VEO31_CORS_ORIGINS: .*not an origin"):
        load_settings()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_binds_need_no_tokens(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    monkeypatch.setenv("VEO31_HOST", host)
    assert load_settings().host == host


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("VEO31_PORT", "eighty", "VEO31_PORT"),
        ("VEO31_PORT", "70000", "VEO31_PORT"),
        ("VEO31_DEFAULT_PROVIDER", "Kie.ai!", "VEO31_DEFAULT_PROVIDER"),
        ("VEO31_PROVIDER_ORDER", "kie,Google AI", "VEO31_PROVIDER_ORDER"),
        ("KIE_BASE_URL", "api.kie.ai", "KIE_BASE_URL"),
        ("VEO31_ALLOW_PRIVATE_URLS", "perhaps", "VEO31_ALLOW_PRIVATE_URLS"),
    ],
)
def test_bad_values_name_the_setting_not_the_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert named in caught.value.message
    assert value not in caught.value.message
