"""The service's settings (``pipelines/service/service.toml``, overridden key by key by
``$PNAD_HOME/service.toml``): automation on or off, when published data is stale, where
failures are sent."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pipelines.common.paths import PnadPaths
from pipelines.common.settings import read_toml, validate

SHIPPED = Path(__file__).with_name("service.toml")


class Automation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False


class Freshness(BaseModel):
    model_config = ConfigDict(extra="forbid")
    warn_after_hours: float = Field(30, gt=0)
    fail_after_hours: float = Field(54, gt=0)


class Alerts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email_to: list[str] = []
    email_from: str = "pnad-tracker@localhost"
    smtp_host: str = ""
    smtp_port: int = Field(25, gt=0, le=65535)
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password_env: str = "PNAD_SMTP_PASSWORD"
    webhook_url: str = ""
    timeout_seconds: float = Field(10, gt=0, le=120)


class ServiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    automation: Automation = Automation()
    freshness: Freshness = Freshness()
    alerts: Alerts = Alerts()


def override_file(paths: PnadPaths) -> Path:
    return paths.home / "service.toml"


def load_service_settings(paths: PnadPaths | None = None) -> ServiceSettings:
    """The shipped settings, each table's keys replaced by the data root's file when it has one."""
    data = read_toml(SHIPPED)
    override = override_file(paths or PnadPaths.resolve())
    where = SHIPPED.name
    if override.is_file():
        for section, values in read_toml(override).items():
            merged = {**data.get(section, {}), **values} if isinstance(values, dict) else values
            data[section] = merged
        where = str(override)
    return validate(ServiceSettings, data, where, "")
