"""The coordinators' dashboard (issue 7): the overview built from the sample campaign's store, its HTML page, the
plugin's registration, and Airflow's authentication on every route (401 anonymous, 200 logged in).

Expected values come from the planted faults of ``par_index_dev.sample_data`` and from the store, never typed in."""

import json
import re
import secrets
import subprocess
import sys
import unicodedata
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from par_index.dashboard import data, html
from par_index.store import session_scope
from par_index.store.models import Notification, SurveyRespondent
from par_index_dev import sample_data as sd
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
ROUTES = [
    "/",
    "/?campaign=ha_tinh_2023",
    "/campaigns",
    "/campaigns/ha_tinh_2023",
    "/campaigns/ha_tinh_2023/overview",
    "/campaigns/ha_tinh_2023/overview?as_of=28/12/2023",
    "/campaigns/ha_tinh_2023/reconcile?unit=STC",
    "/campaigns/ha_tinh_2023/forms/appendix_iv",
    "/dags/par_ha_tinh_2023",
    "/dags/par_ha_tinh_2023_reminders",
    "/dags/par_ha_tinh_2023_deadlines",
    "/dags/par_reconcile",
    "/icon.svg",
]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.fixture(scope="module")
def overview(sample_run, campaign):
    return data.build_overview(campaign, sample_run.runtime.store_url)


def test_countdown_reads_as_a_person_says_it():
    assert data.countdown_vi(timedelta(days=3, hours=4, minutes=5)) == "còn 3 ngày 4 giờ"
    assert data.countdown_vi(timedelta(hours=2)) == "còn 2 giờ"
    assert data.countdown_vi(timedelta(minutes=45, seconds=30)) == "còn 45 phút"
    assert data.countdown_vi(-timedelta(days=1, hours=2, minutes=1)) == "quá hạn 1 ngày 2 giờ"


def test_overview_matrix_and_late_units_follow_the_planted_faults(overview, sample_run, campaign):
    assert overview["has_data"] and json.loads(json.dumps(overview)) == overview  # JSON-able as it is
    units = {u["code"]: u for u in overview["units"]}
    assert list(units) == [u.code for u in campaign.active_units]
    assert units[sd.NOMINEES_NEVER_SENT]["nominees"]["reason"] == "missing"
    assert units[sd.NOMINEES_TOO_MANY[0]]["nominees"]["reason"] == "invalid"
    assert units[sd.NOMINEES_LATE]["nominees"]["reason"] == "late"
    assert units[sd.SELF_SCORES_LATE]["self_scores"]["reason"] == "incomplete"  # late, and one item missing
    assert units[sd.SURVEY_LATE_UNIT]["survey"]["reason"] == "late"
    with session_scope(sample_run.runtime.store_url) as s:
        expected = dict(
            s.execute(
                select(SurveyRespondent.unit_code, func.count()).group_by(SurveyRespondent.unit_code)
            ).all()
        )
    for code, never in sd.SURVEY_INCOMPLETE.items():
        survey = units[code]["survey"]
        assert (survey["reason"], survey["done"], survey["expected"]) == (
            "incomplete",
            expected[code] - never,
            expected[code],
        )
        assert survey["percent"] == round(100 * (expected[code] - never) / expected[code])
    non_owner = next(code for code in units if code not in campaign.area_owners)
    assert units[non_owner]["nominees"] == {
        **units[non_owner]["nominees"],
        "applies": False,
        "status": "none",
    }
    # every deadline of the directive, with the late units the PPC criticises
    deadlines = {d["phase"]: d for d in overview["deadlines"]}
    assert list(deadlines) == ["nominees", "survey", "self_scores", "report"]
    assert deadlines["nominees"]["due_vi"] == "30/12/2023 23:59" and deadlines["nominees"]["passed"]
    assert deadlines["nominees"]["countdown_vi"].startswith("quá hạn ")
    assert {(lag["unit_code"], lag["reason"]) for lag in deadlines["nominees"]["laggards"]} == {
        (sd.NOMINEES_NEVER_SENT, "missing"),
        (sd.NOMINEES_TOO_MANY[0], "invalid"),
        (sd.NOMINEES_LATE, "late"),
    }
    assert {lag["unit_code"] for lag in deadlines["survey"]["laggards"]} == {
        sd.SURVEY_LATE_UNIT,
        *sd.SURVEY_INCOMPLETE,
    }
    assert all(unicodedata.is_normalized("NFC", text) for text in _strings(overview))


def test_open_mismatches_carry_scores_provisional_marks_and_the_rerun_form(overview, sample_run, campaign):
    found = {(m["unit_code"], m["criterion_code"]): m for m in overview["mismatches"]}
    for (unit, code), (report, portal) in sd.SCORE_MISMATCHES.items():
        m = found[(unit, code)]
        assert (m["category"], m["report_score"], m["portal_score"]) == (
            "value_differs",
            float(report),
            float(portal),
        )
        assert m["category_vi"] == "Điểm khác nhau"
        assert m["provisional"] == campaign.catalogue[code].provisional
    assert found[sd.ONLY_IN_REPORT]["category"] == "only_report"
    assert found[sd.MISSING_EVIDENCE]["category"] == "no_evidence"
    units = {u["code"]: u for u in overview["units"]}
    for group in overview["mismatch_groups"]:
        assert group["reconcile_conf"] == {
            "campaign": campaign.id,
            "units": [group["unit_code"]],
            "areas": [],
            "tolerance": 0.01,
        }
        assert units[group["unit_code"]]["mismatches"]["open"] == group["count"]
    assert overview["reconciliation"]["scope_vi"] == "toàn chiến dịch"
    times = [datetime.strptime(n["time_vi"], "%d/%m/%Y %H:%M") for n in overview["notifications"]]
    # the latest mails first, as many as the page shows: the store's send (or last attempt) moments, to the minute
    with session_scope(sample_run.runtime.store_url) as s:
        moments = [
            n.sent_at or n.last_attempt_at
            for n in s.scalars(select(Notification).where(Notification.campaign_id == campaign.id))
        ]
    latest = sorted((m for m in moments if m is not None), reverse=True)[: data.NOTIFICATIONS_SHOWN]
    assert len(latest) == data.NOTIFICATIONS_SHOWN  # the sample run sends more mail than the page shows
    assert times == [m.astimezone(campaign.tz).replace(tzinfo=None, second=0, microsecond=0) for m in latest]


def test_as_of_a_moment_before_the_first_deadline(sample_run, campaign):
    moment = datetime(2023, 12, 28, 12, 0, tzinfo=campaign.tz)
    early = data.build_overview(campaign, sample_run.runtime.store_url, moment)
    nominees = early["deadlines"][0]
    assert not nominees["passed"] and nominees["countdown_vi"] == "còn 2 ngày 11 giờ"
    reasons = {lag["unit_code"]: lag["reason"] for lag in nominees["laggards"]}
    assert nominees["status"] == "pending" and not {"missing", "late"} & set(
        reasons.values()
    )  # nobody late yet
    assert reasons[sd.NOMINEES_NEVER_SENT] == reasons[sd.NOMINEES_LATE] == "pending"
    assert early["mismatches"] == [] and early["as_of_vi"] == "28/12/2023 12:00"


def test_a_store_without_the_campaign_still_shows_its_deadlines(runtime, campaign):
    empty = data.build_overview(campaign, runtime.store_url)
    assert not empty["has_data"] and empty["units"] == [] and len(empty["deadlines"]) == 4
    page = html.render_overview(empty, campaigns=[], base="", ui_base="/", nonce="n")
    assert "chưa chạy bước “Chuẩn bị”" in page and "30/12/2023 23:59" in page


def test_page_shows_matrix_chart_mismatch_links_and_fetches_nothing(overview, campaign):
    page = html.render_overview(
        overview, campaigns=data.campaign_list([campaign]), base="/par-dashboard", ui_base="/", nonce="abc"
    )
    assert unicodedata.is_normalized("NFC", page)
    for unit in campaign.active_units:
        assert unit.name_vi in page
    assert page.count('<g class="bar">') == len(campaign.active_units)  # one bar per unit in the survey chart
    survey = next(u for u in overview["units"] if u["code"] == "SYT")["survey"]
    assert f"{survey['percent']}% ({survey['done']}/{survey['expected']})" in page
    for group in overview["mismatch_groups"]:
        code = group["unit_code"]
        assert f'href="/par-dashboard/campaigns/{campaign.id}/reconcile?unit={code}"' in page
        assert f"Chạy lại đối chiếu cho {code}" in page
    assert "Tạm tính" in page and "Tình hình theo đơn vị" in page
    # the matrix's phase columns are named as the campaign file names the phases (short_title_vi, else title_vi)
    head = re.search(r'<table class="matrix"[^>]*>\s*<thead><tr>(.*?)</tr></thead>', page).group(1)
    assert re.findall(r"<th>(.*?)</th>", head) == [
        "Đơn vị",
        "Cử công chức đầu mối (Phụ lục IV)",
        "Trả lời phiếu khảo sát xã hội học",
        "Tự chấm điểm và báo cáo (Phụ lục II)",
        "Sai lệch chưa xử lý",
        "Tệp đã nhận",
    ]
    assert re.search(r"Hạn: <strong>\d{2}/\d{2}/\d{4} \d{2}:\d{2}</strong>", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from elsewhere, works offline
    assert page.count('nonce="abc"') == 2  # the only style and the only script


def test_inferred_list_names_the_sample_council_members_and_signer(runtime, campaign):
    """The bundled campaign's council members and report signer are invented (members_status and signer_status:
    sample): the overview names them among what is inferred, and stops once the file marks them real."""
    expected = [
        "Số hiệu văn bản chỉ đạo",
        "Ngày ban hành văn bản chỉ đạo",
        "Phân công tiêu chí (Phụ lục I)",
        "Danh sách Hội đồng thẩm định",
        "Địa chỉ thư liên hệ (địa chỉ mẫu)",
        "Thành viên Hội đồng thẩm định (15 người, họ tên và hộp thư mẫu)",
        "Người ký báo cáo (họ tên mẫu: Trần Thanh Giang)",
    ]
    assert data.describe(campaign)["inferred_vi"] == expected
    page = html.render_overview(
        data.build_overview(campaign, runtime.store_url), campaigns=[], base="", ui_base="/", nonce="n"
    )
    assert f"Suy luận trong tệp chiến dịch: {'; '.join(expected)}." in page
    real = campaign.model_copy(
        update={
            "council": campaign.council.model_copy(update={"members_status": "real"}),
            "report": campaign.report.model_copy(update={"signer_status": "real"}),
        }
    )
    assert data.describe(real)["inferred_vi"] == expected[:5]


def test_reconcile_form_is_filled_in_for_the_unit(sample_run, campaign):
    form = data.reconcile_form([campaign], campaign, "STC", sample_run.runtime.store_url)
    assert form["conf"] == {"campaign": campaign.id, "units": ["STC"], "areas": [], "tolerance": 0.01}
    assert [m["criterion_code"] for m in form["open"]] == [
        code for unit, code in sd.SCORE_MISMATCHES if unit == "STC"
    ]
    # the same choices as the par_reconcile DAG's params
    assert [u["code"] for u in form["choices"]["units"]] == sorted(u.code for u in campaign.active_units)
    assert [a["code"] for a in form["choices"]["areas"]] == [a.code for a in campaign.catalogue.areas]
    page = html.render_reconcile(form, base="/par-dashboard", ui_base="/", nonce="n")
    assert '<option value="STC" selected>' in page and 'data-api="/api/v2/dags/par_reconcile"' in page
    assert data.reconcile_form([campaign], campaign, "NOPE", sample_run.runtime.store_url) is None


def test_plugin_registers_the_nav_entry_and_dag_tab_without_heavy_imports(tmp_path):
    probe = f"""
import json, sys, time
import airflow.plugins_manager
start = time.perf_counter()
sys.path.insert(0, {str(ROOT / "plugins")!r})
import par_dashboard
plugin = par_dashboard.ParDashboardPlugin
print(json.dumps({{"seconds": time.perf_counter() - start, "views": plugin.external_views,
                  "apps": [{{k: v for k, v in a.items() if k != "app"}} for a in plugin.fastapi_apps],
                  "heavy": sorted(m for m in ("fastapi", "pandas", "par_index.store.models",
                                              "airflow.api_fastapi.core_api.security") if m in sys.modules)}}))
"""
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(ROOT / "include"),
    }
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [] and result["seconds"] < 1
    views = {v["destination"]: v for v in result["views"]}
    assert views["nav"]["name"] == views["dag"]["name"] == "Chiến dịch CCHC"
    assert views["dag"]["href"] == "par-dashboard/dags/{DAG_ID}" and not views["nav"]["href"].startswith("/")
    assert result["apps"] == [{"url_prefix": "/par-dashboard", "name": "Chiến dịch CCHC"}]


@pytest.fixture(scope="module")
def client(sample_run):
    """The app with Airflow's own authentication: tokens from the auth manager, checked by ``get_user``."""
    from airflow import settings
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.models.revoked_token import RevokedToken
    from par_index.airflow.dashboard_app import create_app

    with warnings.catch_warnings():  # Starlette's note on its test client (Airflow's API modules import it)
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        app = create_app()
    RevokedToken.__table__.create(settings.engine, checkfirst=True)  # get_user checks revoked tokens
    store = {"conn_type": "generic", "extra": {"sqlalchemy_url": sample_run.runtime.store_url}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_CONN_PAR_CAMPAIGN_DB", json.dumps(store))  # the store, as the API server finds it
        mp.setenv("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(64))  # this test's own signing key
        mp.setenv("PAR_DATA_DIR", str(sample_run.data_dir))  # where the blank forms served are kept
        create_auth_manager()  # the configured one (SimpleAuthManager), as the API server creates it
        yield TestClient(app)


def _token(role: str = "admin", name: str | None = None) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=name or f"cchc_{role}", role=role))


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_refuses_anonymous_and_serves_a_logged_in_user(client, route):
    client.cookies.clear()
    assert client.get(route).status_code == 401
    assert client.get(route, headers={"Authorization": "Bearer not-a-token"}).status_code == 403
    cookie = client.get(route, cookies={"_token": _token()})  # what the UI sends
    client.cookies.clear()
    bearer = client.get(route, headers={"Authorization": f"Bearer {_token('viewer')}"})  # an API client
    assert (cookie.status_code, bearer.status_code) == (200, 200), cookie.text[:300]


def test_app_answers_json_and_pages_with_a_strict_policy(client, campaign):
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {_token()}"}
    listing = client.get("/campaigns", headers=auth).json()
    assert [c["id"] for c in listing] == [campaign.id]
    overview = client.get(f"/campaigns/{campaign.id}/overview", headers=auth).json()
    assert {u["code"] for u in overview["units"]} == set(campaign.unit_by_code)
    assert client.get(f"/campaigns/{campaign.id}/overview?as_of=31/02/2023", headers=auth).status_code == 422
    assert client.get("/campaigns/ha_noi_2023/overview", headers=auth).status_code == 404
    page = client.get(f"/dags/{campaign.dag_id}", headers=auth)
    nonce = re.search(r'<style nonce="([^"]+)">', page.text).group(1)
    policy = page.headers["content-security-policy"]
    assert f"script-src 'nonce-{nonce}'" in policy and "default-src 'none'" in policy
    assert "Sở Tài chính" in page.text and f"DAG {campaign.dag_id}" in page.text
    other = client.get("/dags/par_reconcile", headers=auth)
    assert "Không phải DAG của một chiến dịch" in other.text and f"/campaigns/{campaign.id}" in other.text
    anonymous = client.get("/", headers={"Accept": "text/html"})
    assert (
        anonymous.status_code == 401 and "Cần đăng nhập" in anonymous.text and "/auth/login" in anonymous.text
    )


def test_the_coordinators_actions_and_the_blank_forms_are_linked(client, sample_run, campaign):
    from par_index.intake.templates import blank_forms

    client.cookies.clear()
    auth = {"Authorization": f"Bearer {_token('viewer')}"}
    page = client.get(f"/campaigns/{campaign.id}", headers=auth | HTML).text
    links = re.findall(r'<a href="([^"]*/forms/[^"]*)" download>([^<]*)</a>', page)
    assert links == [
        ("/campaigns/ha_tinh_2023/forms/appendix_ii", "PHỤ LỤC II — BÁO CÁO KẾT QUẢ TỰ CHẤM ĐIỂM"),
        ("/campaigns/ha_tinh_2023/forms/appendix_iv", "PHỤ LỤC IV — DANH SÁCH CÔNG CHỨC ĐẦU MỐI"),
        ("/campaigns/ha_tinh_2023/forms/appendix_iii", "PHỤ LỤC III — DANH SÁCH TÀI KHOẢN PHẦN MỀM"),
        (
            "/campaigns/ha_tinh_2023/forms/survey_roster",
            "DANH SÁCH NGƯỜI TRẢ LỜI PHIẾU KHẢO SÁT XÃ HỘI HỌC",
        ),
    ]
    actions = re.search(r'<p class="sub" id="thao-tac">(.*?)</p>', page, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r'<a href="([^"]*)" data-top>([^<]*)</a>', actions) == [
        ("/dags/par_ha_tinh_2023_request", "Gửi yêu cầu"),
        ("/dags/par_ha_tinh_2023_setup", "Sổ thiết lập chiến dịch"),
        ("/dags/par_ha_tinh_2023_import_catalogue", "Nạp Bảng 2 chính thức"),
        ("/dags/par_ha_tinh_2023_rebuild_report", "Lập lại báo cáo"),
    ]
    got = client.get("/campaigns/ha_tinh_2023/forms/appendix_iv", headers=auth)
    folder = sample_run.data_dir / "forms" / "ha_tinh_2023"
    assert (got.status_code, got.headers["content-type"], got.headers["content-disposition"]) == (
        200,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        'attachment; filename="phu_luc_iv_cong_chuc_dau_moi.xlsx"',
    )
    assert blank_forms(campaign) == folder  # what the pipeline keeps, not a copy of its own
    assert got.content == (folder / "phu_luc_iv_cong_chuc_dau_moi.xlsx").read_bytes()


def test_a_user_the_auth_manager_denies_the_dag_gets_403(client, campaign, monkeypatch):
    from airflow.api_fastapi import app as airflow_app
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    class Deny(SimpleAuthManager):
        """Airflow's simple auth manager, refusing the campaign's DAG to one user."""

        def is_authorized_dag(self, *, method, user, access_entity=None, details=None):
            return user.get_name() != "outsider" and super().is_authorized_dag(
                method=method, user=user, access_entity=access_entity, details=details
            )

    monkeypatch.setattr(airflow_app._AuthManagerState, "instance", Deny())
    outsider = {"Authorization": f"Bearer {_token(name='outsider')}"}
    client.cookies.clear()
    assert client.get(f"/campaigns/{campaign.id}/overview", headers=outsider).status_code == 403
    assert client.get(f"/campaigns/{campaign.id}", headers=outsider).status_code == 403
    assert client.get("/campaigns", headers=outsider).json() == []
    insider = {"Authorization": f"Bearer {_token()}"}
    assert client.get(f"/campaigns/{campaign.id}/overview", headers=insider).status_code == 200


HTML = {"Accept": "text/html"}  # what a browser sends: refusals come as a page
BAD_AS_OF = {  # the probe's values, and what the coordinator reads
    "%20%20": "Tham số as_of để trống: bỏ hẳn tham số để xem số liệu hiện tại, hoặc ghi ngày giờ dạng dd/mm/yyyy HH:MM.",
    "": "Tham số as_of để trống: bỏ hẳn tham số để xem số liệu hiện tại, hoặc ghi ngày giờ dạng dd/mm/yyyy HH:MM.",
    "9999-12-31T23:59": "as_of “9999-12-31T23:59” nằm ngoài khoảng xem được: từ năm 2000 đến năm 2100.",
    "0001-01-01": "as_of “0001-01-01” nằm ngoài khoảng xem được: từ năm 2000 đến năm 2100.",
    "31/12/2101%2023:59": "as_of “31/12/2101 23:59” nằm ngoài khoảng xem được: từ năm 2000 đến năm 2100.",
    "h%C3%B4m%20qua": "as_of “hôm qua” không phải ngày giờ (dd/mm/yyyy HH:MM hoặc ISO 8601).",
    "31/02/2023": "as_of “31/02/2023” không phải ngày giờ (dd/mm/yyyy HH:MM hoặc ISO 8601).",
    "2023-12-28T12:00%2B99:00": "as_of “2023-12-28T12:00+99:00” không phải ngày giờ (dd/mm/yyyy HH:MM hoặc ISO 8601).",
}


def _message(page: str) -> tuple[str, str]:
    """The title and the text of a message page."""
    return (re.search(r"<h1>(.*?)</h1>", page).group(1), re.search(r"<p>(.*?)</p>", page).group(1))


@pytest.mark.parametrize("as_of", BAD_AS_OF)
def test_a_bad_as_of_is_a_422_in_vietnamese_on_every_route(client, campaign, as_of):
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {_token()}"}
    expected = BAD_AS_OF[as_of]
    overview = client.get(f"/campaigns/{campaign.id}/overview?as_of={as_of}", headers=auth | HTML)
    assert (overview.status_code, overview.json()) == (422, {"detail": expected})
    for route in (
        f"/campaigns/{campaign.id}?",
        f"/dags/{campaign.dag_id}?",
        f"/?campaign={campaign.id}&",
        "/?",
    ):
        page = client.get(f"{route}as_of={as_of}", headers=auth | HTML)
        assert (page.status_code, _message(page.text)) == (422, ("Tham số không hợp lệ", expected)), route
        assert unicodedata.is_normalized("NFC", page.text) and page.headers["cache-control"] == "no-store"


def test_as_of_at_the_edges_of_the_range_is_served(client, campaign):
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {_token()}"}
    first = client.get(f"/campaigns/{campaign.id}/overview?as_of=01/01/2000", headers=auth)
    last = client.get(f"/campaigns/{campaign.id}/overview?as_of=2100-12-31T23:59%2B07:00", headers=auth)
    assert (first.status_code, first.json()["as_of_vi"]) == (200, "01/01/2000 00:00")
    assert (last.status_code, last.json()["as_of_vi"]) == (200, "31/12/2100 23:59")


@pytest.mark.parametrize(
    ("route", "status", "title", "text"),
    [
        ("/campaigns/ha_noi_2023", 404, "Không tìm thấy", "Không có chiến dịch “ha_noi_2023”."),
        ("/?campaign=ha_noi_2023", 404, "Không tìm thấy", "Không có chiến dịch “ha_noi_2023”."),
        (
            "/campaigns/ha_tinh_2023/reconcile?unit=NOPE",
            404,
            "Không tìm thấy",
            "Chiến dịch ha_tinh_2023 không có đơn vị “NOPE”.",
        ),
        (
            "/campaigns/ha_tinh_2023/reconcile",
            422,
            "Tham số không hợp lệ",
            "Yêu cầu không đúng: thiếu tham số unit.",
        ),
        (
            "/campaigns/ha_tinh_2023/reconcile?unit=%20",
            422,
            "Tham số không hợp lệ",
            "Tham số unit để trống: ghi mã đơn vị, ví dụ unit=STC.",
        ),
        (
            "/campaigns/ha_noi_2023/reconcile?unit=STC",
            404,
            "Không tìm thấy",
            "Không có chiến dịch “ha_noi_2023”.",
        ),
        (
            "/campaigns/ha_tinh_2023/reconcile?unit=" + "X" * 60,
            404,
            "Không tìm thấy",
            "Chiến dịch ha_tinh_2023 không có đơn vị “" + "X" * 39 + "…”.",
        ),
        ("/no-such-page", 404, "Không tìm thấy", "Bảng điều khiển chiến dịch không có trang này."),
        (
            "/campaigns/ha_tinh_2023/forms/phu_luc_v",
            404,
            "Không tìm thấy",
            "Không có biểu mẫu “phu_luc_v”; các biểu mẫu: appendix_ii, appendix_iv, appendix_iii, survey_roster.",
        ),
        (
            "/campaigns/ha_noi_2023/forms/appendix_iv",
            404,
            "Không tìm thấy",
            "Không có chiến dịch “ha_noi_2023”.",
        ),
    ],
)
def test_unknown_campaigns_units_and_bad_form_parameters_are_a_4xx_in_vietnamese(
    client, route, status, title, text
):
    client.cookies.clear()
    page = client.get(route, headers={"Authorization": f"Bearer {_token()}"} | HTML)
    assert (page.status_code, _message(page.text)) == (status, (title, text))
    as_json = client.get(route, headers={"Authorization": f"Bearer {_token()}"})
    assert (as_json.status_code, as_json.json()) == (status, {"detail": text})


def _login_link(page: str) -> str:
    return re.search(
        r'<a class="button" href="([^"]+)" data-top data-login>Đăng nhập Airflow</a>', page
    ).group(1)


def test_a_missing_or_expired_token_gets_a_401_page_whose_login_returns_to_the_page(client, campaign):
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    client.cookies.clear()
    text = (
        "Phiên đăng nhập Airflow đã hết hạn hoặc bạn chưa đăng nhập. Đăng nhập lại để quay về đúng trang này."
    )
    expired = get_auth_manager().generate_jwt(
        SimpleAuthManagerUser(username="cchc_admin", role="admin"), expiration_time_in_seconds=-3600
    )
    for credentials in ({}, {"Authorization": f"Bearer {expired}"}):
        page = client.get(f"/dags/{campaign.dag_id}?as_of=28/12/2023", headers=credentials | HTML)
        assert (page.status_code, _message(page.text)) == (401, ("Cần đăng nhập", text))
        assert (
            _login_link(page.text) == "/auth/login?next=%2Fdags%2Fpar_ha_tinh_2023%3Fas_of%3D28%2F12%2F2023"
        )
    as_json = client.get(f"/campaigns/{campaign.id}/overview")
    assert (as_json.status_code, as_json.json()) == (401, {"detail": text})


def test_the_login_link_returns_to_the_page_under_airflow_s_mount(client, campaign):
    """Airflow mounts the app under /par-dashboard: the way back names the whole path."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    airflow = FastAPI()
    airflow.mount("/par-dashboard", client.app)
    page = TestClient(airflow).get(f"/par-dashboard/campaigns/{campaign.id}?as_of=28/12/2023", headers=HTML)
    assert (page.status_code, _login_link(page.text)) == (
        401,
        "/auth/login?next=%2Fpar-dashboard%2Fcampaigns%2Fha_tinh_2023%3Fas_of%3D28%2F12%2F2023",
    )


def test_a_forged_token_gets_a_403_page_in_vietnamese_whose_login_returns_to_the_page(client, campaign):
    client.cookies.clear()
    text = (
        "Mã đăng nhập gửi kèm yêu cầu không hợp lệ (sai chữ ký, đã bị thu hồi hoặc không do Airflow này cấp). "
        "Đăng nhập lại để quay về đúng trang này."
    )
    forged = _token().rsplit(".", 1)[0] + "." + "A" * 86  # a real header and claims, a made-up signature
    for credentials in ({"Authorization": f"Bearer {forged}"}, {"Authorization": "Bearer not-a-token"}):
        page = client.get(f"/campaigns/{campaign.id}/reconcile?unit=STC", headers=credentials | HTML)
        assert (page.status_code, _message(page.text)) == (403, ("Phiên đăng nhập không hợp lệ", text))
        assert (
            _login_link(page.text) == "/auth/login?next=%2Fcampaigns%2Fha_tinh_2023%2Freconcile%3Funit%3DSTC"
        )
    cookie = client.get("/", cookies={"_token": forged}, headers=HTML)  # what the UI sends
    client.cookies.clear()
    assert (cookie.status_code, _login_link(cookie.text)) == (403, "/auth/login?next=%2F")
    as_json = client.get(f"/campaigns/{campaign.id}/overview", headers={"Authorization": f"Bearer {forged}"})
    assert (as_json.status_code, as_json.json()) == (403, {"detail": text})


def test_long_text_wraps_in_the_tables(overview, campaign):
    import copy

    long = copy.deepcopy(overview)
    name = ("Ban Quản lý dự án đầu tư xây dựng công trình dân dụng và công nghiệp " * 4)[:199] + "Z"
    long["units"][0]["name_vi"] = name
    assert len(name) == 200
    page = html.render_overview(
        long, campaigns=data.campaign_list([campaign]), base="", ui_base="/", nonce="n"
    )
    assert page.count(f'<th scope="row">{name} <small>') == 1  # the whole name, in the matrix
    assert (
        "th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top;\n"
        "  overflow-wrap: anywhere; }" in page
    )
    message = html.render_message("Không tìm thấy", name, base="", nonce="n")
    assert f"<p>{name}</p>" in message and "h1, h2, h3, p, li, .card { overflow-wrap: anywhere; }" in message
