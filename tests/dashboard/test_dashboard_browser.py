"""The dashboard as a coordinator sees it: real Airflow components (tools/stack.py on free ports, temporary
folders) and real headless Chromium (Debian's), logged in through Airflow's login page; the navigation entry, the
tab of the campaign DAG, and a mismatch's link through the filled-in form to a par_reconcile run, which runs (the
form unpauses the DAG) and whose result the dashboard then shows."""

from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from support.ui_stack import CHROMIUM, CHROMIUM_ARGS, log_in, running, stack_module

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "out" / "test-artifacts"


@pytest.mark.slow
@pytest.mark.ui
def test_coordinator_sees_the_campaign_inside_the_airflow_ui(campaign, stack_env, monkeypatch):
    from par_index.runtime import Runtime
    from par_index.service import run_campaign
    from par_index.store import default_url
    from par_index_dev import sample_data as sd
    from par_index_dev.sample_data import generate_inbox
    from playwright.sync_api import expect, sync_playwright

    stack = stack_module(stack_env, monkeypatch)
    generate_inbox(campaign)  # the sample campaign, in the store the stack's API server reads
    run_campaign(campaign, Runtime(stack.STORE_URL or default_url()))
    # every leaf assigned to STC is in its report and on the software (sample_data); one differs
    stc_leaves = sum(unit == "STC" for unit in campaign.assignment_of.values())
    assert sd.SCORE_MISMATCHES[("STC", "6.p1.2")] == (Decimal("1.0"), Decimal("0.75"))
    base = stack.API
    requested: set[str] = set()
    with running(stack):
        api = stack.Api(base)
        api.wait_for_dag(campaign.dag_id)
        api.wait_for_dag("par_reconcile")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="vi-VN")
            page.on("request", lambda request: requested.add(request.url))
            log_in(page, stack)

            page.get_by_role("link", name="Chiến dịch CCHC").first.click()  # the navigation entry
            page.wait_for_url("**/plugin/par-campaigns**")
            dashboard = page.url
            view = page.frame_locator("iframe[title='Chiến dịch CCHC']")
            expect(view.get_by_role("heading", name=campaign.title_vi)).to_be_visible(timeout=60_000)
            matrix = view.get_by_role("table", name="Bảng đơn vị × nội dung")
            stc = matrix.get_by_role("row").filter(has_text="Sở Tài chính (STC)")
            expect(stc).to_contain_text("Đã hoàn thành")
            expect(stc).to_contain_text("1 sai lệch")
            never = matrix.get_by_role("row").filter(has_text=f"({sd.NOMINEES_NEVER_SENT})")
            expect(never).to_contain_text("Không nộp")
            expect(view.get_by_text("Hạn: 30/12/2023 23:59")).to_be_visible()
            expect(view.get_by_text("quá hạn", exact=False).first).to_be_visible()
            expect(
                view.get_by_role("img", name="Tỷ lệ hoàn thành khảo sát theo đơn vị", exact=False)
            ).to_be_attached()
            expect(view.get_by_role("link", name="Chạy lại đối chiếu cho STC")).to_be_visible()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "dashboard.png"
            page.screenshot(path=str(shot))
            print(f"\nscreenshot: {shot}")

            page.goto(f"{base}/dags/{campaign.dag_id}")  # the tab of the campaign DAG
            page.locator('a[href$="/plugin/par-campaign-tab"]').click()
            page.wait_for_url(f"**/dags/{campaign.dag_id}/plugin/par-campaign-tab")
            tab = page.frame_locator("iframe[title='Chiến dịch CCHC']")
            expect(tab.get_by_role("heading", name=campaign.title_vi)).to_be_visible(timeout=60_000)
            expect(tab.get_by_role("link", name=f"DAG {campaign.dag_id}")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard-dag-tab.png"))

            tab.get_by_role("link", name="Chạy lại đối chiếu cho STC").click()  # a mismatch's link
            expect(tab.get_by_role("heading", name="Chạy lại đối chiếu: Sở Tài chính (STC)")).to_be_visible()
            assert tab.locator("#units").evaluate("s => Array.from(s.selectedOptions, o => o.value)") == [
                "STC"
            ]
            expect(tab.locator("#unpause-field")).to_be_visible()  # new DAGs are paused: the form unpauses it
            tab.locator("#unpause").check()
            unpausing = f"{base}/api/v2/dags/par_reconcile"
            with page.expect_response(
                lambda r: r.request.method == "PATCH" and r.url == unpausing
            ) as unpaused:
                tab.get_by_role("button", name="Chạy đối chiếu").click()  # creates the run, then unpauses
            assert unpaused.value.status == 200  # done before leaving the page (leaving would cancel it)
            expect(tab.get_by_text("Đã tạo lần chạy")).to_be_visible(timeout=30_000)
            tab.get_by_role("link", name="Xem lần chạy trong Airflow").click()  # opens in the whole window
            page.wait_for_url("**/dags/par_reconcile/runs/**", timeout=30_000)
            run_id = unquote(urlsplit(page.url).path.split("/runs/")[1].split("/")[0])
            state, _ = api.wait("par_reconcile", run_id, timeout=300)  # the API polled until the run ends
            assert state == "success"

            page.goto(dashboard)  # the run's result, on the dashboard: STC's leaves, all but 6.p1.2 equal
            view = page.frame_locator("iframe[title='Chiến dịch CCHC']")
            expect(
                view.get_by_text(f"phạm vi đơn vị STC: {stc_leaves - 1}/{stc_leaves} dòng khớp.")
            ).to_be_visible(timeout=60_000)
            stc = (
                view.get_by_role("table", name="Bảng đơn vị × nội dung")
                .get_by_role("row")
                .filter(has_text="Sở Tài chính (STC)")
            )
            expect(stc).to_contain_text("1 sai lệch")
            page.screenshot(path=str(ARTIFACTS / "dashboard-after-reconcile.png"))
            browser.close()
        runs = api.call("GET", "/dags/par_reconcile/dagRuns")["dag_runs"]
        assert [(r["conf"], r["note"], r["triggering_user_name"], r["state"]) for r in runs] == [
            (
                {"campaign": campaign.id, "units": ["STC"], "areas": [], "tolerance": 0.01},
                "Chạy lại đối chiếu từ bảng điều khiển chiến dịch: Sở Tài chính (STC)",
                "admin",
                "success",
            )
        ]
        assert api.call("GET", "/dags/par_reconcile")["is_paused"] is False
        result = api.call(
            "GET", f"/dags/par_reconcile/dagRuns/{run_id}/taskInstances/reconcile/xcomEntries/return_value"
        )["value"][campaign.id]
        assert {k: result[k] for k in ("scope", "rows_compared", "equal", "by_category", "announced")} == {
            "scope": "đơn vị STC",
            "rows_compared": stc_leaves,
            "equal": stc_leaves - 1,
            "by_category": {"value_differs": 1},  # sample_data.SCORE_MISMATCHES: STC's 6.p1.2, 1 against 0,75
            "announced": [],  # nothing stored since the campaign's reconciliation: no further run
        }
    origin = urlsplit(base).netloc
    assert {urlsplit(u).netloc for u in requested if u.startswith("http")} == {
        origin
    }  # nothing from elsewhere
