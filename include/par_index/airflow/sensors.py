"""Phase sensor: on each check it reads the inbox, then tests whether the phase may close."""

from __future__ import annotations

from airflow.sdk import BaseSensorOperator, PokeReturnValue


class PhaseSensor(BaseSensorOperator):
    """Collect one phase's forms and wait until every unit has complied or the phase's deadline has passed.

    Runs in ``reschedule`` mode (it does real work on every check, so it frees its worker slot in between). It
    never fails at the deadline: the phase then closes with its gaps recorded. Its ``timeout`` comes from the
    campaign (:meth:`~par_index.campaign.Campaign.collection_lifetime`), and a failing feed of MoHA's software is
    recorded while the check answers from the inbox, so it cannot die before its deadline.
    """

    template_fields = ()

    def __init__(self, *, campaign_file: str, phase: str, **kwargs):
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", 300)
        super().__init__(**kwargs)
        self.campaign_file = campaign_file
        self.phase = phase

    def poke(self, context) -> PokeReturnValue:
        from par_index.airflow.runtime import runtime
        from par_index.campaign import load_campaign
        from par_index.service import collect

        result = collect(load_campaign(self.campaign_file), runtime(), self.phase)
        self.log.info("Phase %s: %s new file(s); rejected %s; waiting for %s", self.phase, result["new_files"],
                      result["rejected"] or "none", result["waiting_for"] or "nobody")
        if result["feed_error"]:  # recorded in the store; this check answered from the inbox
            self.log.warning("Feed %s failed [%s]: %s", result["feed_error"]["source"], result["feed_error"]["code"],
                             result["feed_error"]["message"])
        return PokeReturnValue(is_done=result["done"], xcom_value=result)
