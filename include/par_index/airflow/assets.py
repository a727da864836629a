"""The campaign's self-scores asset and the one place that emits its events: whichever path stored new
self-scores (a phase sensor, the reminder run, a closing task, a feed, ``par_reconcile`` itself), the next task
that announces reads the store (:func:`par_index.reconcile.unreconciled_units`) and emits one event per campaign
with its units, so ``par_reconcile`` reruns for them. Imports nothing heavy at parse time."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAlias

from par_index.campaign import Campaign

# Tasks that may or may not have something to announce emit through this alias: nothing added, no event.
SELF_SCORES = AssetAlias("par_self_scores")


def self_scores_asset(campaign: Campaign) -> Asset:
    """The asset updated whenever new self-scores of the campaign land."""
    return Asset(name=f"{campaign.id}_self_scores", uri=f"par://{campaign.id}/self_scores")


def announce_self_scores(campaign: Campaign, outlet_events: Any) -> list[str]:
    """Emit the campaign's self-scores event (extra ``{"campaign": id, "units": [...]}``, no units meaning every
    unit) when some units' self-scores have not been reconciled since they were stored; return those units
    (``*``: every unit), empty when there is nothing to announce. The task must have :data:`SELF_SCORES` among
    its outlets."""
    from par_index.airflow.runtime import runtime
    from par_index.reconcile import ALL_UNITS, unreconciled_units
    from par_index.store import session_scope

    with session_scope(runtime().store_url) as s:
        pending = sorted(unreconciled_units(s, campaign))
    if pending:
        units = [] if ALL_UNITS in pending else pending
        outlet_events[SELF_SCORES].add(
            self_scores_asset(campaign), extra={"campaign": campaign.id, "units": units}
        )
    return pending
