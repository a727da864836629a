"""HTTP feeds of MoHA's software (scores and survey progress), read through the Airflow connection
``par_portal``. Timeouts, retries with backoff on 5xx and timeouts, pagination guarded against loops; after the
retries, a :class:`FeedError` that names the feed. The records go through the same readers as the exports."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from par_index.errors import ParError

FEED_STATUS = {"submitted": "Đã nộp", "draft": "Chưa nộp"}  # any other status is kept as given, and refused


class FeedError(ParError):
    """MoHA's software did not answer, or answered something unusable."""

    code = "INT060"


@dataclass(frozen=True)
class FeedSettings:
    """Where MoHA's software is and how to call it (token, timeouts, retries)."""

    base_url: str
    token: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.5
    max_pages: int = 500


class PortalClient:
    """Client of MoHA's scoring and survey software. Any other provider of the same records plugs in behind the
    same two methods (``scores`` and ``survey_progress``)."""

    def __init__(self, settings: FeedSettings):
        """A session that retries failed requests as ``settings`` says."""
        self.settings = settings
        self.session = requests.Session()
        retry = Retry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            backoff_factor=settings.backoff,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            raise_on_status=True,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if settings.token:
            self.session.headers["Authorization"] = f"Bearer {settings.token}"
        self.session.headers["Accept"] = "application/json"

    def _pages(self, feed: str, path: str, params: dict) -> list[dict]:
        url = self.settings.base_url.rstrip("/") + path
        items: list[dict] = []
        page: int | None = 1
        seen: set[int] = set()
        while page is not None:
            if page in seen:
                raise FeedError(
                    f"Nguồn dữ liệu “{feed}”: trang {page} lặp lại (vòng lặp phân trang); dừng đọc.",
                    code="INT063",
                )
            if len(seen) >= self.settings.max_pages:
                raise FeedError(
                    f"Nguồn dữ liệu “{feed}”: quá {self.settings.max_pages} trang; dừng đọc.", code="INT064"
                )
            seen.add(page)
            try:
                response = self.session.get(
                    url,
                    params={**params, "page": page},
                    timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                )
            except requests.RequestException as exc:
                raise FeedError(
                    f"Nguồn dữ liệu “{feed}” không trả lời được sau {self.settings.retries + 1} lần thử "
                    f"(trang {page}): {type(exc).__name__}.",
                    code="INT060",
                ) from exc
            if response.status_code >= 400:
                raise FeedError(
                    f"Nguồn dữ liệu “{feed}” trả lỗi HTTP {response.status_code} (trang {page}).",
                    code="INT061",
                )
            try:
                body = response.json()
                batch, page = body["items"], body.get("next_page")
                if not isinstance(batch, list) or not (page is None or isinstance(page, int)):
                    raise TypeError
            except (ValueError, KeyError, TypeError) as exc:
                raise FeedError(
                    f"Nguồn dữ liệu “{feed}” trả dữ liệu không đúng định dạng JSON mong đợi "
                    f"(trang {len(seen)}).",
                    code="INT062",
                ) from exc
            items += batch
        return items

    def scores(self, year: int, units: list[str]) -> list[list[object]]:
        """Self-scores as entered on the software, as rows under the ``self_scores`` feed's columns
        (:data:`par_index.phase_registry.REGISTRY`): status as the export writes it (a status the software
        should not send is passed on as given, for the reader to refuse), ``updated_at`` as given."""
        rows = []
        for unit in units:
            for item in self._pages("điểm tự đánh giá", f"/api/v1/campaigns/{year}/scores", {"unit": unit}):
                rows.append(
                    [
                        item.get("unit"),
                        item.get("criterion"),
                        item.get("score"),
                        item.get("evidence_count"),
                        FEED_STATUS.get(str(item.get("status") or ""), item.get("status")),
                        item.get("updated_at"),
                    ]
                )
        return rows

    def survey_progress(self, year: int) -> list[list[object]]:
        """Respondents' progress, as rows under the ``survey`` feed's columns (:data:`par_index.phase_registry.REGISTRY`)."""
        return [
            [
                item.get("email"),
                item.get("status"),
                item.get("completed_at") or "",
                item.get("answered"),
                item.get("total"),
            ]
            for item in self._pages("tiến độ khảo sát", f"/api/v1/surveys/{year}/respondents", {})
        ]
