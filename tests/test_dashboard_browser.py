"""The dashboard as a coordinator sees it: real Airflow components (tools/stack.py on free ports, temporary
folders) and real headless Chromium (Debian's), logged in through Airflow's login page; the navigation entry, the
tab of the campaign DAG, and a mismatch's link through the filled-in form to a par_reconcile run."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support.ui_stack import CHROMIUM, CHROMIUM_ARGS, log_in, running, stack_module

ROOT = Path(__file__).resolve().parents[1]
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
            expect(tab.locator("#unpause-field")).to_be_visible()  # new DAGs are paused: leave it so here
            tab.locator("#unpause").uncheck()
            tab.get_by_role("button", name="Chạy đối chiếu").click()
            expect(tab.get_by_text("Đã tạo lần chạy")).to_be_visible(timeout=30_000)
            tab.get_by_role("link", name="Xem lần chạy trong Airflow").click()  # opens in the whole window
            page.wait_for_url("**/dags/par_reconcile/runs/**", timeout=30_000)
            browser.close()
        runs = api.call("GET", "/dags/par_reconcile/dagRuns")["dag_runs"]
        assert [(r["conf"], r["note"], r["triggering_user_name"]) for r in runs] == [
            (
                {"campaign": campaign.id, "units": ["STC"], "areas": [], "tolerance": 0.01},
                "Chạy lại đối chiếu từ bảng điều khiển chiến dịch: Sở Tài chính (STC)",
                "admin",
            )
        ]
    origin = urlsplit(base).netloc
    assert {urlsplit(u).netloc for u in requested if u.startswith("http")} == {
        origin
    }  # nothing from elsewhere
