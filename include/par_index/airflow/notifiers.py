"""Notifier run when a phase closes: the coordinators learn how it closed and which units are late."""

from __future__ import annotations

from airflow.sdk import BaseNotifier


class PhaseClosedNotifier(BaseNotifier):
    """Mail the coordinators the phase's outcome (once per phase, through the notification ledger)."""

    template_fields = ()

    def __init__(self, *, campaign_file: str, phase: str):
        """Remember the campaign file and the phase whose outcome is mailed."""
        super().__init__()
        self.campaign_file = campaign_file
        self.phase = phase

    def notify(self, context) -> None:  # noqa: ARG002 - Airflow's notifier signature
        """Mail the coordinators the phase's outcome and log what was sent."""
        from par_index.airflow.runtime import runtime
        from par_index.campaign import load_campaign
        from par_index.service import notify_phase_closed

        result = notify_phase_closed(load_campaign(self.campaign_file), runtime(), self.phase)
        self.log.info(
            "Phase %s closed (complete: %s); mail: %s", self.phase, result["complete"], result["mail"]
        )
