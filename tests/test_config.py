"""Settings: one nested model per integration, while every `AFTERACTION_*` name people
already set keeps landing where it did (environment, `.env` file and keyword arguments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as SettingsError

from afteraction.config import Settings, development_settings, variables

# Every environment name the settings have ever had, with a value and where it must land.
OLD_NAMES: dict[str, tuple[str, str, Any]] = {
    "AFTERACTION_ENVIRONMENT": ("environment", "demo", "demo"),
    "AFTERACTION_DATABASE_URL": ("database_url", "sqlite:///x.db", "sqlite:///x.db"),
    "AFTERACTION_SECRET_KEY": ("secret_key", "s" * 20, "s" * 20),
    "AFTERACTION_BASE_URL": ("base_url", "https://aa.example", "https://aa.example"),
    "AFTERACTION_QUEUE_URL": ("queue.url", "redis://q:6379/0", "redis://q:6379/0"),
    "AFTERACTION_RUN_WORKER_IN_PROCESS": ("run_worker_in_process", "false", False),
    "AFTERACTION_SESSION_MAX_AGE": ("session_max_age", "600", 600),
    "AFTERACTION_SECURE_COOKIES": ("secure_cookies", "true", True),
    "AFTERACTION_MAX_UPLOAD_BYTES": ("max_upload_bytes", "4096", 4096),
    "AFTERACTION_MAX_JSON_FILE_BYTES": ("max_json_file_bytes", "2048", 2048),
    "AFTERACTION_UPLOADS_DIR": ("uploads_dir", "/srv/up", Path("/srv/up")),
    "AFTERACTION_PAGE_SIZE": ("page_size", "25", 25),
    "AFTERACTION_PAGERDUTY_TOKEN": ("pagerduty.token", "pd-key", "pd-key"),
    "AFTERACTION_READ_CACHE": ("read_cache", "0", False),
    "AFTERACTION_SIMILARITY": ("similarity", "lexical", "lexical"),
    "AFTERACTION_SMTP_HOST": ("smtp.host", "mail.example", "mail.example"),
    "AFTERACTION_SMTP_PORT": ("smtp.port", "587", 587),
    "AFTERACTION_SMTP_FROM": ("smtp.sender", "aa@example.com", "aa@example.com"),
    "AFTERACTION_SMTP_USERNAME": ("smtp.username", "aa", "aa"),
    "AFTERACTION_SMTP_PASSWORD": ("smtp.password", "pw", "pw"),
    "AFTERACTION_SMTP_STARTTLS": ("smtp.starttls", "true", True),
    "AFTERACTION_SLACK_BOT_TOKEN": ("slack.bot_token", "xoxb-1", "xoxb-1"),
    "AFTERACTION_SLACK_API_URL": (
        "slack.api_url",
        "http://slack.test/api/",
        "http://slack.test/api/",
    ),
    "AFTERACTION_JIRA_BASE_URL": ("jira.base_url", "https://j.example", "https://j.example"),
    "AFTERACTION_JIRA_TOKEN": ("jira.token", "jt", "jt"),
    "AFTERACTION_JIRA_PROJECT": ("jira.project", "OPS", "OPS"),
    "AFTERACTION_GITHUB_TOKEN": ("github.token", "gt", "gt"),
    "AFTERACTION_GITHUB_REPOSITORY": ("github.repository", "o/r", "o/r"),
    "AFTERACTION_GITHUB_API_URL": ("github.api_url", "https://gh.test", "https://gh.test"),
    "AFTERACTION_REVIEW_OPEN_LIMIT": ("review.open_limit", "5", 5),
    "AFTERACTION_REVIEW_DUE_DAYS": ("review.due_days", "SEV1=2", "SEV1=2"),
    "AFTERACTION_OIDC_ISSUER": ("oidc.issuer", "https://idp.example", "https://idp.example"),
    "AFTERACTION_OIDC_CLIENT_ID": ("oidc.client_id", "cid", "cid"),
    "AFTERACTION_OIDC_CLIENT_SECRET": ("oidc.client_secret", "cs", "cs"),
    "AFTERACTION_OIDC_SCOPES": ("oidc.scopes", "openid email", "openid email"),
    "AFTERACTION_OIDC_DEFAULT_ROLE": ("oidc.default_role", "responder", "responder"),
    "AFTERACTION_OIDC_ALLOWED_DOMAINS": ("oidc.allowed_domains", "example.com", "example.com"),
    "AFTERACTION_PASSWORD_LOGIN": ("password_login", "false", False),
}
# Settings added since the names were grouped: every one documented, each landing too.
ADDED_NAMES: dict[str, tuple[str, str, Any]] = {
    "AFTERACTION_REVIEW_PUBLISH_REQUIRES_NO_OPEN_FINDINGS": (
        "review.publish_requires_no_open_findings",
        "true",
        True,
    ),
    "AFTERACTION_QUEUE_STALE_AFTER": ("queue.stale_after", "30", 30),
    "AFTERACTION_SESSION_IDLE_TIMEOUT": ("session_idle_timeout", "900", 900),
    "AFTERACTION_RETENTION_CHAT_DAYS": ("retention.chat_days", "90", 90),
    "AFTERACTION_RETENTION_RECORDING_DAYS": ("retention.recording_days", "30", 30),
    "AFTERACTION_OPENTELEMETRY": ("opentelemetry", "true", True),
}
ALL_NAMES = OLD_NAMES | ADDED_NAMES


def _at(settings: Settings, path: str) -> Any:
    value: Any = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No AFTERACTION_* variables and no `.env` file but the test's own."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("AFTERACTION_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_the_documented_names_are_exactly_the_old_ones_and_the_added() -> None:
    listed = {env: path for env, path, _field in variables()}
    assert listed == {env: path for env, (path, _raw, _value) in ALL_NAMES.items()}


def test_every_old_environment_name_lands_in_its_setting(clean_env: pytest.MonkeyPatch) -> None:
    for env, (_path, raw, _value) in ALL_NAMES.items():
        clean_env.setenv(env, raw)
    settings = Settings()
    for env, (path, _raw, value) in ALL_NAMES.items():
        assert _at(settings, path) == value, env


def test_the_env_file_uses_the_same_names(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lines = [f"{env}={raw}" for env, (_path, raw, _value) in ALL_NAMES.items()]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings()
    for env, (path, _raw, value) in ALL_NAMES.items():
        assert _at(settings, path) == value, env


def test_defaults_and_groups(clean_env: pytest.MonkeyPatch) -> None:
    settings = development_settings()
    assert settings.smtp.host == "" and settings.smtp.port == 25
    assert settings.smtp.sender == "afteraction@localhost"
    assert settings.github.api_url == "https://api.github.com"
    assert settings.queue.url == "" and settings.oidc.enabled is False
    assert settings.review.due_days == "SEV1=3,SEV2=5b"


def test_flat_and_nested_keyword_arguments(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AFTERACTION_SMTP_PORT", "2525")
    flat = development_settings(smtp_host="h", smtp_from="f@x", queue_url="memory:")
    assert (flat.smtp.host, flat.smtp.sender, flat.smtp.port) == ("h", "f@x", 2525)
    assert flat.queue.url == "memory:"
    nested = development_settings(smtp={"host": "h", "from": "f@x"}, smtp_port=26)
    assert (nested.smtp.host, nested.smtp.sender, nested.smtp.port) == ("h", "f@x", 26)
    again = Settings.model_validate(nested.model_dump())
    assert again.smtp == nested.smtp and again.secret_key == nested.secret_key


def test_group_rules_still_name_the_environment_variables(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="AFTERACTION_OIDC_DEFAULT_ROLE"):
        development_settings(oidc_issuer="https://i", oidc_client_id="c", oidc_default_role="x")
    clean_env.setenv("AFTERACTION_OIDC_ISSUER", "https://idp.example")
    with pytest.raises(SettingsError, match="AFTERACTION_OIDC_CLIENT_ID"):
        development_settings()
    clean_env.setenv("AFTERACTION_SMTP_PORT", "0")
    clean_env.setenv("AFTERACTION_OIDC_CLIENT_ID", "c")
    with pytest.raises(SettingsError, match="greater than or equal to 1"):
        development_settings()
    clean_env.setenv("AFTERACTION_SMTP_PORT", "25")
    domains = development_settings(oidc_allowed_domains="Example.com, @example.org").oidc
    assert domains.domains() == {"example.com", "example.org"}
