import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campaigns.tasks import rollup, tick
from outreach.tasks import dispatch_tick, sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "The demo's beat: every few seconds, start due waves, dispatch queued messages and "
        "sweep lost work and refresh report rollups, in-process. Production runs "
        "`celery beat` instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=5.0, help="Seconds between ticks.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            while True:
                self.tick_once()
                time.sleep(options["every"])
        except KeyboardInterrupt:  # Ctrl-C stops the demo: no traceback
            return

    def tick_once(self) -> None:
        """One beat; a failure is logged and the next beat comes anyway.

        The tasks are called, not applied: a result's get() would refuse whenever a dispatch
        thread is inside an eager task (Celery marks "inside a task" per process)."""
        try:
            started = tick()
            dispatched = dispatch_tick()
            sweep()
            rollup()  # the demo's reports follow along
        except Exception:
            logger.exception("demo ticker: this beat failed; the next one comes in a moment")
            return
        if started or dispatched:
            self.stdout.write(f"demo ticker: started waves {started}, channels {dispatched}")
