"""Settings from the environment and an optional `.env`: one `Settings` object, made by `get_settings()`.

Our own settings carry the `VEO31_` prefix; provider keys keep the names their providers use
(`KIE_API_KEY`, `GEMINI_API_KEY`). Keys are `SecretStr`, so no repr, log line or error shows them.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from veo31.errors import ConfigurationError

PROVIDER_NAME = r"^[a-z][a-z0-9_-]{0,31}$"

MAX_QUALITY_RETRIES = 3  # VEO31_QUALITY_RETRIES at most: each is a paid submission


class QualityGate(enum.StrEnum):
    """What happens to a finished video that fails the quality checks (`VEO31_QUALITY_GATE`)."""

    OFF = "off"  # no checks: completed once stored and decodable
    REPORT = "report"  # completed, with the report
    HOLD = "hold"  # needs_review until a person approves or rejects it
    RETRY = "retry"  # a new paid attempt with a new seed (VEO31_QUALITY_RETRIES at most), then as `hold`


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_local_bind(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Everything veo31 reads from its environment. Create it with `get_settings()` or pass one explicitly."""

    model_config = SettingsConfigDict(
        env_prefix="VEO31_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    kie_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("KIE_API_KEY"))
    kie_base_url: str = Field(default="https://api.kie.ai", validation_alias=AliasChoices("KIE_BASE_URL"))
    kie_upload_base_url: str = Field(
        default="https://kieai.redpandaai.co", validation_alias=AliasChoices("KIE_UPLOAD_BASE_URL")
    )
    gemini_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("GEMINI_API_KEY"))
    gemini_base_url: str = Field(
        default="https://generativelanguage.googleapis.com", validation_alias=AliasChoices("GEMINI_BASE_URL")
    )
    # Vertex AI through google-genai: the SDK's own switch and names, so one environment serves both.
    google_genai_use_vertexai: bool = Field(default=False, validation_alias=AliasChoices("GOOGLE_GENAI_USE_VERTEXAI"))
    google_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("GOOGLE_API_KEY"))
    google_cloud_project: str | None = Field(default=None, validation_alias=AliasChoices("GOOGLE_CLOUD_PROJECT"))
    google_cloud_location: str = Field(default="us-central1", validation_alias=AliasChoices("GOOGLE_CLOUD_LOCATION"))
    vertex_base_url: str | None = Field(default=None, description="default: the google-genai SDK's own endpoint")
    gemini_model: str | None = Field(default=None, description="Veo model for the fast tier; default per surface")
    gemini_quality_model: str | None = None
    gemini_lite_model: str | None = None
    gemini_concurrency: int = Field(default=10, ge=1, description="Google generations at once on this worker")
    # Google allows about 10 concurrent Veo requests per project (specs/gemini-veo31-api.md), whatever the fleet.
    gemini_fleet_concurrency: int = Field(
        default=10, ge=0, description="Google generations at once across all workers (0: no fleet-wide cap)"
    )
    gemini_rate_limit: int = Field(default=10, ge=1, description="new Google submissions per gemini_rate_period")
    gemini_rate_period: float = Field(default=60.0, gt=0)

    data_dir: Path = Path("./data")
    database_url: str | None = None

    # Blobs (videos, posters, reference images): the data folder, or an S3-compatible bucket.
    storage_url: str | None = Field(default=None, description="s3://bucket/prefix; default: <data_dir>/blobs")
    s3_endpoint_url: str | None = Field(default=None, description="for SeaweedFS, MinIO, R2…; default: AWS")
    s3_public_endpoint_url: str | None = Field(
        default=None, description="the endpoint as browsers reach it, for presigned links (default: s3_endpoint_url)"
    )
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = Field(default=None, description="default: boto3's own chain (AWS_*, roles)")
    s3_secret_access_key: SecretStr | None = None
    s3_delivery: Literal["stream", "redirect"] = Field(
        default="stream", description="videos sent through veo31 (stream) or by a short-lived presigned redirect"
    )
    s3_presign_seconds: int = Field(default=300, ge=10, le=7 * 86_400)
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Origins whose pages may call this server from a browser (CORS), and post to it: every other cross-site
    # state-changing request is refused before anything is read. `null` = pages opened from disk; `*` = any.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    metrics_public: bool = Field(default=False, description="serve /metrics without a token when tokens are set")
    allow_private_urls: bool = False
    allowed_private_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="CIDRs image URLs may point into though private (an internal image host)"
    )
    # Provider names are checked against the known providers (built-in and plugins) when the server starts.
    default_provider: str = Field(
        default="auto", pattern=PROVIDER_NAME, description="where a request that names no provider goes"
    )
    provider_order: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["kie", "gemini", "local"], description="which configured provider auto takes first"
    )
    provider_plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="modules that each declare one more provider (ENTRY = ProviderEntry(...))"
    )
    fallback: bool = Field(
        default=False, description="move an auto generation to the next provider when one refuses before any task"
    )

    quality_gate: QualityGate = Field(
        default=QualityGate.REPORT,
        description="what a finished video failing the quality checks gets: off (no checks), report (completes with "
        "the report), hold (needs a person's review), retry (a new paid attempt with a new seed, then review)",
    )
    quality_retries: int = Field(
        default=1,
        ge=0,
        le=MAX_QUALITY_RETRIES,
        description="with VEO31_QUALITY_GATE=retry: new paid attempts at most per generation",
    )
    quality_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description='the quality gate\'s thresholds to change, e.g. {"frozen_seconds": 1.5, "hue_degrees": 30}',
    )
    # Cost: prices are configuration (they change); the defaults are the specs' figures.
    gemini_prices: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "quality": {"720p": 0.40, "1080p": 0.40, "4k": 0.60},
            "fast": {"720p": 0.10, "1080p": 0.12, "4k": 0.30},
            "lite": {"720p": 0.05, "1080p": 0.08},
        },
        description="USD per second of output, by tier and resolution",
    )
    kie_credits: dict[str, float] = Field(
        default_factory=lambda: {"quality": 250.0, "fast": 168.0, "lite": 30.0},
        description="Kie.ai credits per 8 s clip, by tier",
    )
    kie_upgrade_credits: dict[str, float] = Field(
        default_factory=lambda: {"1080p": 5.0, "4k": 120.0}, description="Kie.ai credits for the 1080p / 4k step"
    )
    kie_credit_usd: float = Field(default=0.005, ge=0, description="US$ per Kie.ai credit")
    budget_limit: float | None = Field(default=None, ge=0, description="US$: new submits are refused past this spend")

    http_timeout: float = Field(default=30.0, gt=0, description="Seconds allowed for one provider call.")

    # Step 1: which analyser reads the references. auto = the vision model when one is configured, else local.
    analyzer: Literal["auto", "local", "llm"] = "auto"
    analysis_fallback: bool = Field(default=True, description="fall back to local analysis if the model fails")
    prompt_writer: Literal["auto", "template", "llm"] = "auto"
    llm_base_url: str | None = Field(default=None, description="any OpenAI-compatible endpoint, e.g. …/v1")
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = Field(default=60.0, gt=0)

    # Reference images
    max_image_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    image_fetch_timeout: float = Field(default=15.0, gt=0)

    # The wait for a provider: a callback wakes it at once; otherwise poll, backing off, until the deadline.
    first_poll_seconds: float = Field(default=10.0, gt=0)
    max_poll_seconds: float = Field(default=30.0, gt=0)
    generation_deadline_seconds: float = Field(default=1200.0, gt=0)
    sweep_interval_seconds: float = Field(default=300.0, gt=0)
    # On SQLite DBOS's listener runs one query per waiting workflow per interval: shorter costs CPU for every
    # generation that waits, longer delays the callback's wake-up (bench/waiting.py; docs/performance.md).
    wake_interval_seconds: float = Field(
        default=0.3, gt=0, description="how often a waiting workflow looks for a callback (DBOS listener period)"
    )
    # Each look at a provider queue is a few queries that DBOS builds afresh: looking often keeps an idle server
    # busy, looking seldom delays a new generation's start (docs/performance.md).
    queue_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often a worker looks for queued generations to start (DBOS queue polling)"
    )

    # Per-provider queues: concurrency on this worker and across all workers, new submissions per period (all workers).
    kie_concurrency: int = Field(default=50, ge=1)
    # Kie runs about 100 tasks at once per account (specs/kie-veo31-api.md); beyond that its answers slow or fail.
    kie_fleet_concurrency: int = Field(
        default=100, ge=0, description="Kie.ai generations at once across all workers (0: no fleet-wide cap)"
    )
    local_disabled: bool = Field(default=False, description="hide the local renderer (auto then needs a key)")
    local_concurrency: int = Field(default=1, ge=1, description="local renders at once (each uses every core)")
    kie_rate_limit: int = Field(default=20, ge=1)
    kie_rate_period: float = Field(default=10.0, gt=0)
    executor_id: str = Field(default="local", min_length=1, max_length=100)
    # A worker that stops beating for this long is gone: a live one takes its unfinished generations over.
    worker_silence_seconds: float = Field(
        default=60.0, ge=1, description="how long a worker may be silent before another takes its generations over"
    )

    # Outbound webhooks (Standard Webhooks): retried with growing delays for about a day, then given up.
    webhook_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        description="the waits before each retry of a webhook the receiver did not take (comma-separated seconds)",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="how long a receiver may take")
    webhook_secret_overlap_seconds: float = Field(
        default=86_400.0, ge=0, description="how long an endpoint's old secret still signs after a rotation"
    )
    webhook_dispatch_seconds: float = Field(
        default=0.5, gt=0, description="how often a worker looks for events to announce"
    )
    # Retrieval streams and decodes videos in processes of their own (veo31.media.processes), each with its memory.
    media_processes: int = Field(
        default=2, ge=1, le=64, description="processes that download and verify finished videos at once"
    )

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [token.strip() for token in value.split(",") if token.strip()]
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        for origin in value or []:
            if origin not in ("*", "null") and not re.fullmatch(r"https?://[^/\s?#]+", origin):
                raise ValueError(f"{origin!r} is not an origin such as https://shop.example.com, null or *")
        return value

    @field_validator("provider_order", mode="before")
    @classmethod
    def _split_order(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip().lower() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError("names a provider twice")
        if isinstance(value, list) and not all(
            isinstance(name, str) and re.match(PROVIDER_NAME, name) for name in value
        ):
            raise ValueError("lists provider names such as kie, gemini, local")
        return value

    @field_validator("provider_plugins", mode="before")
    @classmethod
    def _split_plugins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_seconds", mode="before")
    @classmethod
    def _split_delays(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not value or any(float(delay) < 0 for delay in value):
            raise ValueError("give one or more waits in seconds, such as 5,300,1800")
        return value

    @field_validator("allowed_private_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for network in value or []:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network such as 10.0.0.0/8") from None
        return value

    @field_validator(
        "kie_api_key", "gemini_api_key", "google_api_key", "s3_access_key_id", "s3_secret_access_key", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("storage_url")
    @classmethod
    def _s3_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        bucket = value.removeprefix("s3://").partition("/")[0]
        if not value.startswith("s3://") or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ValueError("must be s3://bucket or s3://bucket/prefix (a lowercase S3 bucket name)")
        return value.rstrip("/")

    @field_validator(
        "kie_base_url",
        "kie_upload_base_url",
        "public_url",
        "llm_base_url",
        "gemini_base_url",
        "vertex_base_url",
        "s3_endpoint_url",
        "s3_public_endpoint_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_open_bind(self) -> Settings:
        if "*" in self.cors_origins and not _is_local_bind(self.host) and not self.api_tokens:
            raise ValueError(
                f"VEO31_CORS_ORIGINS=* with VEO31_HOST={self.host} and no VEO31_API_TOKENS would let any web page "
                "spend this server's credits; list the origins that may call it, or set VEO31_API_TOKENS"
            )
        if not _is_local_bind(self.host) and not self.api_tokens:
            raise ValueError(
                f"VEO31_HOST={self.host} would expose veo31 beyond this machine without authentication; "
                "set VEO31_API_TOKENS (comma-separated) or bind to 127.0.0.1"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'veo31.db').resolve()}"

    @property
    def system_database_url(self) -> str:
        """Where DBOS keeps its workflow checkpoints: beside our tables, in a database of its own."""
        if self.database_url and not self.database_url.startswith("sqlite"):
            base, _, name = self.database_url.rpartition("/")
            return f"{base}/{name.split('?')[0]}_dbos_sys"
        return f"sqlite:///{(self.data_dir / 'veo31-dbos.db').resolve()}"

    @property
    def google_surface(self) -> Literal["vertex", "gemini-api"] | None:
        """Which Google surface is configured: Vertex AI when the SDK's switch is on, else the Gemini API."""
        if self.google_genai_use_vertexai:
            return "vertex" if (self.google_api_key or self.google_cloud_project) else None
        return "gemini-api" if self.gemini_api_key else None

    @property
    def bound_locally(self) -> bool:
        return _is_local_bind(self.host)


def load_settings(**overrides: Any) -> Settings:
    """Build `Settings`, turning a validation failure into one sentence per bad setting (never a value)."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """Name each bad setting and what is wrong, without echoing the value (it may be a secret)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        location = ".".join(str(item) for item in error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{_env_name(location)}: {message}" if location else message)
    return "invalid settings: " + "; ".join(parts)


def _env_name(field_name: str) -> str:
    field = Settings.model_fields.get(field_name)
    alias = field.validation_alias if field else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"VEO31_{field_name.upper()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Tests and the CLI build their own with `load_settings(...)`."""
    return load_settings()
