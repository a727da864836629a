"""The directive's deadlines as a coordinator sees them in the Airflow UI: real Airflow components (tools/stack.py on
free ports, temporary folders) and real headless Chromium (Debian's), a trial campaign whose first deadline falls
a few minutes into the test. The deadlines DAG's Deadlines panel lists the directive's deadlines only: the one some
unit missed reads Missed once it has passed, the ones ahead read Upcoming, the one met before its deadline (the
report, delivered) has left the panel and its run says Met; the campaign DAG itself shows no Deadlines panel."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from support.received_mail import read_mails
from support.ui_stack import CHROMIUM, CHROMIUM_ARGS, log_in, running, stack_module

ROOT = Path(__file__).resolve().parents[1]
HA_TINH_2023 = ROOT / "include" / "campaigns" / "ha_tinh_2023.yaml"
ARTIFACTS = ROOT / "out" / "test-artifacts"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_DEADLINE_IN = timedelta(
    minutes=4
)  # from writing the campaign file: the stack parses it and starts the run


def _write_campaign(folder: Path, base_url: str, now: datetime) -> Path:
    """A trial of the 2023 campaign issued today whose nominees are due in a few minutes, the survey, self-scores
    and report in 2, 3 and 4 days."""
    from par_index.trial import trial_data

    data = trial_data(HA_TINH_2023, now.astimezone(HANOI).date(), ui_base_url=base_url)
    start = now.replace(microsecond=0)
    for phase, after in {
        "nominees": FIRST_DEADLINE_IN,
        "survey": timedelta(days=2),
        "self_scores": timedelta(days=3),
        "report": timedelta(days=4),
    }.items():
        data["deadlines"][phase]["due"] = (start + after).astimezone(HANOI)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['campaign']['id']}.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    tmp.replace(path)
    return path


def _until(what: str, check, timeout: float, every: float = 3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


@pytest.mark.slow
@pytest.mark.ui
def test_the_deadlines_panel_shows_the_directive_s_deadlines_missed_exactly_when_missed(
    stack_env, monkeypatch
):
    from par_index.campaign import load_campaign
    from par_index.notify import SmtpSettings
    from par_index.runtime import Runtime
    from par_index.service import assemble_report, deliver_report, record_report_decision
    from par_index.store import default_url
    from playwright.sync_api import expect, sync_playwright

    stack = stack_module(stack_env, monkeypatch)
    with running(stack):
        api = stack.Api(stack.API)
        path = _write_campaign(stack.TRIAL_DIR, stack.API, datetime.now(UTC))
        campaign = load_campaign(path)
        dag_id, due = f"{campaign.dag_id}_deadlines", campaign.deadline_at("nominees")
        stack.start_trial(api, path, new=True)  # what `make up` does: the campaign run, then the reminder DAG

        def waiting_runs():  # the campaign's deadline_* tasks made one run per deadline, each awaiting it
            runs = api.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
            states = {
                r["dag_run_id"]: api.call(
                    "GET", f"/dags/{dag_id}/dagRuns/{r['dag_run_id']}/taskInstances/await_compliance"
                )["state"]
                for r in runs
            }
            return states if states and set(states.values()) == {"deferred"} and len(states) == 4 else None

        runs = _until("four deadline runs deferred", waiting_runs, 180)
        print(f"\ndeadline runs: {runs}; nominees due in {(due - datetime.now(UTC)).total_seconds():.0f} s")
        assert datetime.now(UTC) < due - timedelta(seconds=20), (
            "the stack took too long: the deadline is here"
        )
        assert api.deadline_panel(campaign) == {
            p: "Upcoming" for p in ("nominees", "survey", "self_scores", "report")
        }

        # SNV's leader approves and the report goes to the PPC, days before its deadline: the report is met
        rt = Runtime(stack.STORE_URL or default_url(), SmtpSettings("127.0.0.1", stack.SMTP_PORT))
        assemble_report(campaign, rt)
        record_report_decision(campaign, rt, True, "Giám đốc Sở Nội vụ", datetime.now(UTC))
        deliver_report(campaign, rt)
        _until(
            "the report's run succeeded",
            lambda: api.call("GET", f"/dags/{dag_id}/dagRuns/report")["state"] == "success",
            120,
        )

        # nobody sent Appendix IV: once the nominees' deadline has passed, it reads Missed
        _until(
            "the nominees' deadline missed",
            lambda: api.deadline_panel(campaign)["nominees"] == "Missed",
            (due - datetime.now(UTC)).total_seconds() + 120,
        )
        panel = api.deadline_panel(campaign)
        assert panel == {
            "nominees": "Missed",
            "survey": "Upcoming",
            "self_scores": "Upcoming",
            "report": "Met",
        }
        _until(
            "the nominees' run ended",
            lambda: api.call("GET", f"/dags/{dag_id}/dagRuns/nominees")["state"] == "success",
            60,
        )
        task = api.call("GET", f"/dags/{dag_id}/dagRuns/nominees/taskInstances/await_compliance")
        assert task["state"] == "skipped"  # no failed task: the deadline passed

        # the missed deadline's Deadline Alert: the triggerer mails the coordinators "đã đến hạn", naming who
        mail = stack.OUT / "mail"
        due_mails = _until(
            "the nominees' “đã đến hạn” mail",
            lambda: [
                m for m in read_mails(mail) if "[Cảnh báo hạn — đã đến hạn] Cử công chức" in str(m["Subject"])
            ],
            90,
        )
        assert len(due_mails) == 1 and str(due_mails[0]["Subject"]).startswith("[Thử nghiệm] ")
        assert not [m for m in read_mails(mail) if "đã đến hạn] Sở Nội vụ trình" in str(m["Subject"])]  # met
        doc = api.call("GET", f"/dags/{campaign.dag_id}/details")["doc_md"]
        assert f"({stack.API}/dags/{dag_id})" in doc  # the campaign DAG leads the coordinator to the panel

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(
                viewport={"width": 1440, "height": 1000}, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
            )
            page = context.new_page()
            log_in(page, stack)

            page.goto(f"{stack.API}/dags/{dag_id}")  # the deadlines DAG's Overview
            title = f"Hạn của văn bản chỉ đạo — {campaign.title_vi}"
            expect(page.get_by_text(title, exact=True).first).to_be_visible(timeout=60_000)
            heading = page.get_by_text("Deadlines", exact=True)
            rows = page.get_by_role("link", name="self_scores")
            expect(rows).to_be_visible(timeout=60_000)
            panel = (
                page.locator("div").filter(has=heading).filter(has=rows).last
            )  # the innermost box holding both
            rule = "Must complete within a few seconds of hạn của văn bản chỉ đạo"

            def expected(phase: str) -> str:
                return f"Expected:\n{campaign.deadline_at(phase).astimezone(HANOI):%Y-%m-%d %H:%M:%S}"

            lines = [line.strip() for line in panel.inner_text().splitlines() if line.strip()]
            print("panel:", lines)
            assert lines == "\n".join(
                [  # the directive's deadlines; the met one has gone
                    "Deadlines",
                    "Missed",
                    "nominees",
                    rule,
                    expected("nominees"),
                    "Upcoming",
                    "survey",
                    rule,
                    expected("survey"),
                    "Upcoming",
                    "self_scores",
                    rule,
                    expected("self_scores"),
                ]
            ).split("\n")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "deadlines_panel.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot: {shot}")

            page.goto(f"{stack.API}/dags/{dag_id}/runs/report")  # the met deadline's run
            expect(page.get_by_text("Met", exact=True)).to_be_visible(timeout=60_000)
            expect(
                page.get_by_text("Sở Nội vụ trình UBND tỉnh báo cáo tự đánh giá — hạn ")
            ).to_be_visible()  # note
            page.screenshot(path=str(ARTIFACTS / "deadline_report_run.png"))

            page.goto(
                f"{stack.API}/dags/{campaign.dag_id}"
            )  # the campaign DAG: no Deadlines panel of its own
            expect(page.get_by_text("Last Dag Run")).to_be_visible(timeout=60_000)
            page.wait_for_timeout(2000)
            expect(page.get_by_text("Deadlines", exact=True)).to_have_count(0)
            browser.close()
