"""The campaign dashboard inside the Airflow UI: a FastAPI app that the ``par_dashboard`` plugin mounts under
:data:`URL_PREFIX`, with HTML pages (shown by the UI in its navigation and as a tab of each campaign DAG) and the
same data as JSON.

Every route needs a logged-in Airflow user, by Airflow's own ``get_user`` (the UI's ``_token`` cookie or an
``Authorization: Bearer`` JWT; 401 without one or with an expired one, 403 with a forged one), allowed by the auth
manager to read the campaign's DAG (403 otherwise). A refusal or a bad parameter is a 4xx with a Vietnamese page (a
browser) or JSON ``detail`` (the JSON routes, API clients); 401 and 403 pages link to the login page, which returns
to the page asked for. The app is built on its first request (:class:`LazyApp`): the scheduler, the DAG processor
and the workers load plugins too, and must not pay for FastAPI, Airflow's API security module or the library."""

import logging
import secrets
import threading
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

log = logging.getLogger(__name__)

URL_PREFIX = "/par-dashboard"
JSON_PATHS = ("/campaigns", "/overview")  # routes answering JSON (errors too)
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#0b57d0" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="4" width="18" height="17" rx="2"/>'
    '<path d="M8 2v4M16 2v4M3 9h18M7 14l2 2 4-4"/></svg>'
)
AS_OF_YEARS = (2000, 2100)  # the moments ?as_of= may name (any campaign of the index lies well inside)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # the blank forms' media type
SHOWN_CHARS = 40  # of a bad parameter, quoted back in a message
TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền",
    404: "Không tìm thấy",
    405: "Không hỗ trợ",
    422: "Tham số không hợp lệ",
}
AUTH_REFUSALS = {  # what Airflow's get_user answers, for a person: 401 no or expired token, 403 forged token
    401: (
        "Cần đăng nhập",
        "Phiên đăng nhập Airflow đã hết hạn hoặc bạn chưa đăng nhập. Đăng nhập lại để quay về "
        "đúng trang này.",
    ),
    403: (
        "Phiên đăng nhập không hợp lệ",
        "Mã đăng nhập gửi kèm yêu cầu không hợp lệ (sai chữ ký, đã bị thu hồi "
        "hoặc không do Airflow này cấp). Đăng nhập lại để quay về đúng trang này.",
    ),
}
OTHER_REFUSALS = {
    404: "Bảng điều khiển chiến dịch không có trang này.",
    405: "Trang này chỉ để xem: yêu cầu kiểu này không được nhận.",
}
_campaign_cache: dict = {}


def campaigns() -> list:
    """The campaign files, loaded again only when one changes; a file that does not load is left out (the DAG
    processor reports it as an import error)."""
    from par_index.campaign import campaign_files, load_campaign
    from par_index.errors import CampaignError

    files = campaign_files()
    key = tuple((str(p), p.stat().st_mtime_ns) for p in files)
    if _campaign_cache.get("key") != key:
        loaded = []
        for path in files:
            try:
                loaded.append(load_campaign(path))
            except CampaignError as exc:
                log.warning("Campaign file %s left out of the dashboard: %s", Path(path).name, exc)
        _campaign_cache.update(key=key, campaigns=loaded)
    return _campaign_cache["campaigns"]


def shown(value: str) -> str:
    """A parameter as a message quotes it: printable, NFC, at most :data:`SHOWN_CHARS` characters."""
    text = unicodedata.normalize("NFC", "".join(c if c.isprintable() else "·" for c in value))
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def as_of_moment(text: str | None, campaign) -> datetime | None:
    """The moment ``?as_of=`` names, in the campaign's zone when it names none; ``None`` without the parameter.
    ValueError, with the reason in Vietnamese, for a blank value, one that is not a date or a year outside
    :data:`AS_OF_YEARS`."""
    from par_index.text import parse_vn_datetime

    if text is None:
        return None
    if not text.strip():
        raise ValueError(
            "Tham số as_of để trống: bỏ hẳn tham số để xem số liệu hiện tại, hoặc ghi ngày giờ "
            "dạng dd/mm/yyyy HH:MM."
        )
    try:
        moment = parse_vn_datetime(text)  # dd/mm/yyyy [HH:MM] or ISO 8601
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise ValueError(f"as_of “{shown(text)}” không phải ngày giờ (dd/mm/yyyy HH:MM hoặc ISO 8601).")
    first, last = AS_OF_YEARS
    if not first <= moment.year <= last:
        raise ValueError(f"as_of “{shown(text)}” nằm ngoài khoảng xem được: từ năm {first} đến năm {last}.")
    return moment if moment.tzinfo else moment.replace(tzinfo=campaign.tz)


def next_path(path: str, query: str) -> str:
    """Where the login page sends the coordinator back: the page asked for, with its parameters."""
    return path + (f"?{query}" if query else "")


def create_app():  # noqa: C901 - the routes are closures over the auth manager: one flat list of small handlers
    """The dashboard's FastAPI app (routes below; mounted by the plugin under :data:`URL_PREFIX`)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
    from airflow.api_fastapi.core_api.security import get_user
    from airflow.configuration import conf
    from airflow.models.dag import DagModel
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from par_index.airflow.runtime import store_url
    from par_index.dashboard import data, html
    from par_index.phase_registry import BLANK_FORMS

    class Refusal(HTTPException):
        """A refusal this app words itself (Vietnamese); any other comes from FastAPI, Starlette or Airflow."""

    User = Annotated[BaseUser, Depends(get_user)]  # the logged-in Airflow user (401 without one)
    app = FastAPI(
        title="Chiến dịch CCHC",
        dependencies=[Depends(get_user)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    def readable(user: BaseUser, campaign) -> bool:
        """What Airflow's ``requires_access_dag("GET")`` decides for the campaign's DAG."""
        team = DagModel.get_team_name(campaign.dag_id) if conf.getboolean("core", "multi_team") else None
        details = DagDetails(id=campaign.dag_id, team_name=team)
        return get_auth_manager().is_authorized_dag(method="GET", details=details, user=user)

    def allowed(user: BaseUser) -> list:
        return [c for c in campaigns() if readable(user, c)]

    def campaign_or_error(campaign_id: str, user: BaseUser):
        campaign = data.find_campaign(campaigns(), campaign_id)
        if campaign is None:
            raise Refusal(404, f"Không có chiến dịch “{shown(campaign_id)}”.")
        if not readable(user, campaign):
            raise Refusal(
                403,
                f"Bạn không có quyền xem DAG {campaign.dag_id}. Đăng nhập bằng tài khoản "
                "được xem nếu bạn có.",
            )
        return campaign

    def paths(request: Request) -> tuple[str, str]:
        """Where the dashboard is mounted, and Airflow's own root (for links to its pages and REST API)."""
        base = request.scope.get("root_path", "").rstrip("/")
        root = base.removesuffix(URL_PREFIX) if base.endswith(URL_PREFIX) else ""
        return base, root + "/"

    def page(render, status: int = 200) -> HTMLResponse:
        """An HTML page whose inline style and script carry a fresh nonce; nothing else may load or run."""
        nonce = secrets.token_urlsafe(16)
        return HTMLResponse(
            render(nonce),
            status_code=status,
            headers={
                "Content-Security-Policy": f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
                "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
                "base-uri 'none'; frame-ancestors 'self'",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )

    def overview(campaign, as_of: str | None) -> dict:
        try:
            moment = as_of_moment(as_of, campaign)
        except ValueError as exc:
            raise Refusal(422, str(exc)) from exc
        return data.build_overview(campaign, store_url(), moment)

    def overview_page(
        request: Request, user: BaseUser, campaign, as_of: str | None, dag_id: str | None = None
    ):
        base, ui_base = paths(request)
        result = overview(campaign, as_of)
        listing = data.campaign_list(allowed(user))
        return page(
            lambda nonce: html.render_overview(
                result,
                campaigns=listing,
                base=base,
                ui_base=ui_base,
                nonce=nonce,
                dag_id=dag_id,
                live=as_of is None,
            )
        )

    def refusal(
        request: Request, status: int, title: str, text: str, headers: Mapping[str, str] | None = None
    ):
        """JSON for the JSON routes and API clients; a short Vietnamese page for a person in the UI. A 401 or 403
        page links to the login page, which returns to the page asked for."""
        wants_html = "text/html" in request.headers.get("accept", "") and not request.url.path.endswith(
            JSON_PATHS
        )
        headers = {"Cache-Control": "no-store", **(headers or {})}
        if not wants_html:
            return JSONResponse({"detail": text}, status_code=status, headers=headers)
        base, _ = paths(request)
        login = None
        if status in (401, 403):
            back = next_path(request.url.path, request.url.query)
            login = get_auth_manager().get_url_login(next_url=back)
        response = page(
            lambda nonce: html.render_message(title, text, base=base, nonce=nonce, login_url=login), status
        )
        response.headers.update(headers)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _error(request: Request, exc: StarletteHTTPException):
        status = exc.status_code
        if isinstance(exc, Refusal):
            title, text = TITLES.get(status, "Có lỗi"), str(exc.detail)
        elif status in AUTH_REFUSALS:  # from Airflow's get_user
            title, text = AUTH_REFUSALS[status]
        else:
            title = TITLES.get(status, "Có lỗi")
            text = OTHER_REFUSALS.get(status, f"Yêu cầu không thực hiện được (mã {status}).")
        return refusal(request, status, title, text, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        """A missing or malformed parameter (FastAPI's validation), said in Vietnamese."""
        problems = []
        for error in exc.errors():
            name = str(error.get("loc", ("", "?"))[-1])
            problems.append(
                f"thiếu tham số {name}" if error.get("type") == "missing" else f"tham số {name} không hợp lệ"
            )
        text = "Yêu cầu không đúng: " + "; ".join(dict.fromkeys(problems)) + "."
        return refusal(request, 422, TITLES[422], text)

    @app.get(
        "/", response_class=HTMLResponse, summary="Trang tổng quan (chiến dịch mới nhất hoặc ?campaign=)"
    )
    def index(request: Request, user: User, campaign: str | None = None, as_of: str | None = None):
        if campaign:
            return overview_page(request, user, campaign_or_error(campaign, user), as_of)
        listing = data.campaign_list(allowed(user))
        if not listing:
            base, _ = paths(request)
            return page(
                lambda nonce: html.render_message(
                    "Chưa có chiến dịch",
                    "Không có tệp chiến dịch nào bạn được xem (include/campaigns/).",
                    base=base,
                    nonce=nonce,
                )
            )
        return overview_page(request, user, campaign_or_error(listing[0]["id"], user), as_of)

    @app.get("/campaigns", summary="Danh sách chiến dịch (JSON)")
    def campaign_listing(user: User):
        return JSONResponse(data.campaign_list(allowed(user)), headers={"Cache-Control": "no-store"})

    @app.get("/campaigns/{campaign_id}/overview", summary="Tổng quan một chiến dịch (JSON)")
    def campaign_overview(request: Request, campaign_id: str, user: User, as_of: str | None = None):  # noqa: ARG001 - FastAPI
        result = overview(campaign_or_error(campaign_id, user), as_of)
        return JSONResponse(result, headers={"Cache-Control": "no-store"})

    @app.get(
        "/campaigns/{campaign_id}", response_class=HTMLResponse, summary="Trang tổng quan một chiến dịch"
    )
    def campaign_page(request: Request, campaign_id: str, user: User, as_of: str | None = None):
        return overview_page(request, user, campaign_or_error(campaign_id, user), as_of)

    @app.get(
        "/campaigns/{campaign_id}/reconcile",
        response_class=HTMLResponse,
        summary="Biểu mẫu chạy par_reconcile điền sẵn cho một đơn vị",
    )
    def reconcile_page(request: Request, campaign_id: str, unit: str, user: User):
        campaign = campaign_or_error(campaign_id, user)
        if not unit.strip():
            raise Refusal(422, "Tham số unit để trống: ghi mã đơn vị, ví dụ unit=STC.")
        form = data.reconcile_form(allowed(user), campaign, unit, store_url())
        if form is None:
            raise Refusal(404, f"Chiến dịch {campaign.id} không có đơn vị “{shown(unit)}”.")
        base, ui_base = paths(request)
        return page(lambda nonce: html.render_reconcile(form, base=base, ui_base=ui_base, nonce=nonce))

    @app.get("/campaigns/{campaign_id}/forms/{kind}", summary="Tải một biểu mẫu trống (xlsx) của chiến dịch")
    def blank_form(campaign_id: str, kind: str, user: User):
        """A blank form, regenerated first when stale (openpyxl is loaded then, not with the app)."""
        from par_index.intake.templates import template_for

        campaign = campaign_or_error(campaign_id, user)
        if kind not in BLANK_FORMS:
            raise Refusal(404, f"Không có biểu mẫu “{shown(kind)}”; các biểu mẫu: {', '.join(BLANK_FORMS)}.")
        return FileResponse(
            template_for(campaign, kind),
            media_type=XLSX,
            filename=BLANK_FORMS[kind][0],
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/dags/{dag_id}", response_class=HTMLResponse, summary="Tab “Chiến dịch CCHC” của một DAG")
    def dag_tab(request: Request, dag_id: str, user: User, as_of: str | None = None):
        campaign = data.find_campaign(campaigns(), dag_id)
        if campaign is None:
            base, _ = paths(request)
            listing = data.campaign_list(allowed(user))
            return page(
                lambda nonce: html.render_message(
                    "Không phải DAG của một chiến dịch",
                    f"DAG {dag_id} không thuộc chiến dịch nào; mở một chiến dịch dưới đây.",
                    base=base,
                    nonce=nonce,
                    campaigns=listing,
                )
            )
        return overview_page(request, user, campaign_or_error(campaign.id, user), as_of, dag_id=dag_id)

    @app.get("/icon.svg", summary="Biểu tượng trong thanh điều hướng")
    def icon():
        return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=86400"})

    return app


class LazyApp:
    """ASGI app that builds :func:`create_app` on its first request."""

    def __init__(self) -> None:
        """No app yet: it is built on the first request."""
        self._app: Any = None
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        """Serve an ASGI request, building the app first if needed."""
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = create_app()
        await self._app(scope, receive, send)


app = LazyApp()
