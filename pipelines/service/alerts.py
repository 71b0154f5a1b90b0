"""Failures are heard: each failed run is written once to ``$PNAD_HOME/alerts.log`` and, when
configured (``service.toml [alerts]``), sent by e-mail and to a webhook. Called by the
``run_failure_alert_sensor`` (runs launched by the daemon) and by the ``pnad`` commands (runs
they execute themselves); a run already recorded is not sent twice."""

from __future__ import annotations

import json
import os
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

import requests

from pipelines.common.clock import paris_now
from pipelines.common.paths import PnadPaths
from pipelines.service.settings import Alerts, service_settings_or_defaults

ALERTS_LOG = "alerts.log"


@dataclass(frozen=True)
class Failure:
    run_id: str
    job_name: str
    reason: str
    at: datetime

    @property
    def line(self) -> str:
        reason = " ".join(self.reason.split())
        return f"{self.at:%Y-%m-%d %H:%M:%S}\t{self.job_name}\t{self.run_id}\t{reason}"

    @property
    def subject(self) -> str:
        return f"[pnad-tracker] échec du run {self.job_name} ({self.at:%d/%m/%Y %H:%M})"

    @property
    def text(self) -> str:
        return (
            f"Le run {self.run_id} du job {self.job_name} a échoué le "
            f"{self.at:%d/%m/%Y à %H:%M}.\n\nRaison : {self.reason}\n\n"
            "Les données publiées restent celles de la dernière publication réussie ; "
            "`pnad status` dit ce qui demande votre attention."
        )


def already_recorded(paths: PnadPaths, run_id: str) -> bool:
    log = paths.home / ALERTS_LOG
    if not log.is_file():
        return False
    with log.open(encoding="utf-8") as handle:
        return any(line.split("\t")[2:3] == [run_id] for line in handle)


def _append(paths: PnadPaths, line: str) -> None:
    with (paths.home / ALERTS_LOG).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def send_email(settings: Alerts, failure: Failure) -> None:
    message = EmailMessage()
    message["Subject"] = failure.subject
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message.set_content(failure.text)
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, os.environ.get(settings.smtp_password_env, ""))
        smtp.send_message(message)


def send_webhook(settings: Alerts, failure: Failure) -> None:
    body = {
        "text": f"{failure.subject} : {failure.reason}",
        "run_id": failure.run_id,
        "job": failure.job_name,
        "reason": failure.reason,
        "at": failure.at.isoformat(timespec="seconds"),
    }
    response = requests.post(
        settings.webhook_url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=settings.timeout_seconds,
        allow_redirects=False,
    )
    response.raise_for_status()


def record_failure(
    paths: PnadPaths, run_id: str, job_name: str, reason: str, at: datetime | None = None
) -> Failure | None:
    """Write the failure to alerts.log and send it where configured; None when this run was
    already recorded. Sending problems are written to the log too, never raised: an alert must
    not fail the service it watches."""
    if already_recorded(paths, run_id):
        return None
    failure = Failure(run_id, job_name, reason, at or paris_now())
    _append(paths, failure.line)
    settings, problem = service_settings_or_defaults(paths)
    settings = settings.alerts
    if problem:  # said in the log; the shipped settings (the log only) are used
        _append(paths, f"{paris_now():%Y-%m-%d %H:%M:%S}\talerte\t{run_id}\t{problem}")
    channels = []
    if settings.email_to and settings.smtp_host:
        channels.append(("courriel", send_email))
    if settings.webhook_url:
        channels.append(("webhook", send_webhook))
    for name, send in channels:
        try:
            send(settings, failure)
        except (OSError, smtplib.SMTPException, requests.RequestException) as error:
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            _append(
                paths,
                f"{paris_now():%Y-%m-%d %H:%M:%S}\talerte\t{run_id}\t"
                f"envoi par {name} impossible : {reason}",
            )
    return failure
