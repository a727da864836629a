"""A trial campaign a coordinator can try now: a bundled campaign file re-dated so that its directive is issued
today, every deadline kept at its distance from the directive, marked "thử nghiệm" and polling its inbox often.

``make up`` (``tools/stack.py up``) writes it into the stack's extra campaign folder (``PAR_EXTRA_CAMPAIGNS_DIR``),
never into ``include/campaigns/``: the bundled files stay as they are, and the trial's file is data, not code.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

from par_index.campaign import Campaign, load_campaign
from par_index.catalogue import YAML_LOADER

TRIAL_SUFFIX = "thu_nghiem"  # a trial's id: its province slug, then this (ha_tinh_thu_nghiem)
TRIAL_POKE = (
    "30s"  # pause between two checks of the inbox: with a check of 5-25 s, a file is read within a minute
)


def _shift(value, days: timedelta):
    """A date or a date-time of the campaign file moved by ``days`` (a date-time keeps its time of day)."""
    if isinstance(value, str):  # quoted in the file: read it as the loader would validate it
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    return value + days


def trial_id_for(province_slug: str) -> str:
    """The id of the trial campaign of a province's file: ``<slug>_thu_nghiem`` (one trial per province)."""
    return f"{province_slug}_{TRIAL_SUFFIX}"


def trial_data(
    source: Path,
    today: date,
    *,
    trial_id: str | None = None,
    poke: str = TRIAL_POKE,
    ui_base_url: str | None = None,
) -> dict:
    """The campaign file ``source`` as a trial dated from ``today`` (id ``trial_id``, by default its province's:
    :func:`trial_id_for`): the same units, Appendix I, contacts and ladder; the directive issued ``today`` and every
    deadline (and every unit's validity dates, so the same units stay active) moved by the same number of days."""
    data = copy.deepcopy(yaml.load(source.read_text(encoding="utf-8"), Loader=YAML_LOADER))
    offset = timedelta(days=(today - _shift(data["directive"]["issued_on"], timedelta(0))).days)
    head = data["campaign"]
    head.update(id=trial_id or trial_id_for(head["province"]["slug"]), trial=True)
    if ui_base_url:
        head["ui_base_url"] = ui_base_url
    directive = data["directive"]
    directive["issued_on"] = today
    if "(thử nghiệm)" not in directive["title_vi"]:
        directive["title_vi"] = f"{directive['title_vi']} (thử nghiệm)"
    for deadline in data["deadlines"].values():
        deadline["due"] = _shift(deadline["due"], offset)
    for unit in data["units"]:
        for key in ("valid_from", "valid_until"):
            if unit.get(key) is not None:
                unit[key] = _shift(unit[key], offset)
    data.setdefault("reminders", {})["sensor_poke"] = poke
    return data


def write_trial(source: Path, folder: Path, today: date, **options) -> Path:
    """Write the trial campaign file into ``folder`` (``<trial_id>.yaml``) and check that it loads."""
    data = trial_data(source, today, **options)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['campaign']['id']}.yaml"
    header = (
        f"# Chiến dịch THỬ NGHIỆM, sinh tự động ngày {today:%d/%m/%Y} từ {source.name} (make up): chỉ thị ngày "
        f"{today:%d/%m/%Y}, mỗi hạn giữ đúng khoảng cách với ngày chỉ thị như tệp gốc.\n"
        "# Không sửa tay: xóa tệp này (hoặc `tools/stack.py up --new-trial`) để bắt đầu lại từ hôm nay.\n"
    )
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(
        header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8"
    )
    tmp.replace(path)  # the DAG processor never reads half a file
    load_campaign(path)
    return path


def current_trial(path: Path, now: datetime) -> Campaign | None:
    """The trial campaign in ``path`` while it lives (until its last reminder), else None."""
    if not path.exists():
        return None
    try:
        campaign = load_campaign(path)
    except Exception:  # noqa: BLE001 - an unreadable trial file is replaced by a new one
        return None
    return campaign if campaign.campaign.trial and now < campaign.ends_at else None


def forget_trial(campaign_id: str, store_url: str) -> int:
    """Delete every row of the campaign ``campaign_id`` from the store (a new trial starts empty); returns the
    number of rows deleted. Rows of other campaigns are not touched."""
    from sqlalchemy import delete, select, update

    from par_index.store import migrate
    from par_index.store.db import session_scope
    from par_index.store.models import Base, CampaignRow, ReceivedFile

    migrate(store_url)
    deleted = 0
    with session_scope(store_url) as s:
        files = select(ReceivedFile.id).where(ReceivedFile.campaign_id == campaign_id).scalar_subquery()
        s.execute(
            update(ReceivedFile).where(ReceivedFile.campaign_id == campaign_id).values(superseded_by=None)
        )
        for table in reversed(Base.metadata.sorted_tables):
            if "campaign_id" in table.c:
                deleted += s.execute(delete(table).where(table.c.campaign_id == campaign_id)).rowcount  # type: ignore[attr-defined]
            elif "file_id" in table.c:
                deleted += s.execute(delete(table).where(table.c.file_id.in_(files))).rowcount  # type: ignore[attr-defined]
        deleted += s.execute(delete(CampaignRow).where(CampaignRow.id == campaign_id)).rowcount  # type: ignore[attr-defined]
    return deleted
