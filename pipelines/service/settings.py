"""The service's settings (``pipelines/service/service.toml``, overridden key by key by
``$PNAD_HOME/service.toml``): automation on or off, when published data is stale, where
failures are sent.

Values are typed strictly (``enabled = "yes"`` or ``warn_after_hours = "30"`` are refused, not
guessed). A wrong file never silences the service: the Dagster definitions, the alerts and
``pnad status`` fall back to the shipped settings and say what is wrong
(``service_settings_or_defaults``); the commands that change settings refuse it."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.common.paths import PnadPaths
from pipelines.common.settings import SettingsError, read_toml, validate

SHIPPED = Path(__file__).with_name("service.toml")
STRICT = ConfigDict(extra="forbid", strict=True)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class Automation(BaseModel):
    model_config = STRICT
    enabled: bool = False


class Freshness(BaseModel):
    model_config = STRICT
    warn_after_hours: float = Field(30, gt=0)
    fail_after_hours: float = Field(54, gt=0)

    @model_validator(mode="after")
    def _warn_before_fail(self) -> Freshness:
        if self.warn_after_hours >= self.fail_after_hours:
            raise ValueError(
                "warn_after_hours doit être plus petit que fail_after_hours (on avertit avant "
                "de déclarer la publication périmée)"
            )
        return self


class Alerts(BaseModel):
    model_config = STRICT
    email_to: list[str] = []
    email_from: str = "pnad-tracker@localhost"
    smtp_host: str = ""
    smtp_port: int = Field(25, gt=0, le=65535)
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password_env: str = "PNAD_SMTP_PASSWORD"
    webhook_url: str = ""
    timeout_seconds: float = Field(10, gt=0, le=120)

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        wrong = [address for address in value if not EMAIL.match(address)]
        if wrong:
            raise ValueError(f"adresses de courriel non valides {wrong}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("doit être une adresse http:// ou https://")
        return value


class ServiceSettings(BaseModel):
    model_config = STRICT
    automation: Automation = Automation()
    freshness: Freshness = Freshness()
    alerts: Alerts = Alerts()


def override_file(paths: PnadPaths) -> Path:
    return paths.home / "service.toml"


def load_service_settings(paths: PnadPaths | None = None) -> ServiceSettings:
    """The shipped settings, each table's keys replaced by the data root's file when it has one;
    SettingsError (in French, with the file and the key) when that file is wrong."""
    data = read_toml(SHIPPED)
    override = override_file(paths or PnadPaths.resolve())
    where = SHIPPED.name
    if override.is_file():
        for section, values in read_toml(override).items():
            merged = {**data.get(section, {}), **values} if isinstance(values, dict) else values
            data[section] = merged
        where = str(override)
    return validate(ServiceSettings, data, where, "")


def service_settings_or_defaults(
    paths: PnadPaths | None = None,
) -> tuple[ServiceSettings, str | None]:
    """The settings, or the shipped ones and why the data root's file was not used: what must
    keep the service running (definitions, alerts, status) never stops on a typo."""
    try:
        return load_service_settings(paths), None
    except SettingsError as error:
        return validate(ServiceSettings, read_toml(SHIPPED), SHIPPED.name, ""), str(error)
