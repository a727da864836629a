"""Phase sensor: each check reads the inbox and tests whether the phase may close; in between it waits in the
triggerer until a file arrives or the deadline passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import BaseSensorOperator


class PhaseSensor(BaseSensorOperator):
    """Collect one phase's forms and wait until every unit has complied or the phase's deadline has passed.

    A check runs on a worker (it reads files and MoHA's feed, writes the store). Between checks the task is
    deferred to :class:`~par_index.airflow.triggers.InboxTrigger`, which holds no worker and wakes it within seconds
    of a new file (so a unit hears at once what was wrong with its file), at the deadline (to close), and, when
    MoHA's software is connected, every ``poke_interval`` to read its feed. It never fails at the deadline: the
    phase then closes with its gaps recorded. With outlets, when done it announces the self-scores not yet
    reconciled (:func:`~par_index.airflow.assets.announce_self_scores`): an asset event is emitted only when a task
    succeeds, so scores it stored while waiting are announced then, or sooner by the reminder run. Its
    ``timeout`` comes from the campaign (:meth:`~par_index.campaign.Campaign.collection_lifetime`), counted from
    the first check of the try, and a failing feed is recorded while the check answers from the inbox, so it
    cannot die before its deadline.
    """

    template_fields = ()

    def __init__(self, *, campaign_file: str, phase: str, check_every: float = 2.0, **kwargs):
        """Remember the campaign file, the phase and how often the trigger looks at the inbox."""
        kwargs.setdefault("poke_interval", 300)
        super().__init__(**kwargs)
        self.campaign_file, self.phase, self.check_every = campaign_file, phase, check_every

    def execute(self, context):
        """Run the first check of the phase."""
        return self.check(context)

    def check(self, context, first_check: str | None = None, event: dict | None = None):  # noqa: ARG002
        """One check; then done (the phase's result), or deferred until the next reason to look."""
        from airflow.sdk.exceptions import AirflowSensorTimeout

        from par_index.airflow.runtime import runtime
        from par_index.airflow.triggers import InboxTrigger
        from par_index.campaign import load_campaign
        from par_index.intake.inbox import inbox_fingerprint
        from par_index.phase_registry import REGISTRY
        from par_index.service import collect, received_log

        now = datetime.now(UTC)
        started = datetime.fromisoformat(first_check) if first_check else now
        if event:
            self.log.info("Woken by %s", event)
        campaign, rt = load_campaign(self.campaign_file), runtime()
        seen = inbox_fingerprint(
            campaign
        )  # before reading: a file that lands during the check wakes it again
        result = collect(campaign, rt, self.phase)
        self.log.info(
            "Phase %s: this check read %s new file(s), of which refused: %s; waiting for %s",
            self.phase,
            result["new_files"],
            result["rejected"] or "none",
            result["waiting_for"] or "nobody",
        )
        for line in received_log(
            campaign, rt, self.phase
        ):  # what the store holds, whichever path registered it
            self.log.info("%s", line)
        if result["feed_error"]:  # recorded in the store; this check answered from the inbox
            self.log.warning(
                "Feed %s failed [%s]: %s",
                result["feed_error"]["source"],
                result["feed_error"]["code"],
                result["feed_error"]["message"],
            )
        if result["done"]:  # self-scores stored by any check (or any other path) and not yet reconciled
            if self.outlets and context.get("outlet_events") is not None:
                from par_index.airflow.assets import announce_self_scores

                result["announced"] = announce_self_scores(campaign, context["outlet_events"])
            return result
        ends = started + timedelta(seconds=self.timeout)
        if now >= ends:
            raise AirflowSensorTimeout(
                f"Phase {self.phase}: still waiting {now - started} after the first check "
                f"({started.isoformat()}), beyond its lifetime of {self.timeout:.0f} s"
            )
        deadline = campaign.deadline_at(self.phase)
        wakes = (
            [(deadline, "deadline")] if deadline > now else []
        )  # past it, only an unfinished file keeps it open
        if result["recheck_at"]:  # a file still being written, or cut off and young: look again then
            self.log.info(
                "Not read yet (unfinished): %s; looking again at %s", result["pending"], result["recheck_at"]
            )
            wakes.append((datetime.fromisoformat(result["recheck_at"]), "recheck"))
        if (
            REGISTRY[self.phase].feed and rt.portal
        ):  # MoHA's software changes without a file: read it every poke
            wakes.append((now + timedelta(seconds=self.poke_interval), "feed"))
        wake_at, wake_for = min(wakes)
        self.defer(
            trigger=InboxTrigger(self.campaign_file, seen, wake_at.isoformat(), self.check_every, wake_for),
            method_name="check",
            kwargs={"first_check": started.isoformat()},
            timeout=ends - now,
        )
