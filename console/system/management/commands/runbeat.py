"""Celery beat alone: `manage.py runbeat`. Two hosts may run it; a schedule still fires once."""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def beat_command(python: str, schedule_file: Path) -> list[str]:
    return [python, "-m", "celery", "-A", "console", "beat", "-l", "info", "-s", str(schedule_file)]


class Command(BaseCommand):
    help = "Run Celery beat (sweeps, due syncs, expiries); due syncs are claimed, so a second beat is safe."

    def handle(self, *args, **options):
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        command = beat_command(sys.executable, Path(settings.VAR_DIR) / "celerybeat-schedule")
        sys.stdout.flush()
        os.execv(command[0], command)
