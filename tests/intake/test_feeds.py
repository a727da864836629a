"""Feeds of MoHA's software against a real HTTP server on loopback: recorded pages, 500s, slow answers,
malformed JSON and a page loop."""

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from par_index.intake.feeds import FeedError, FeedSettings, PortalClient
from par_index.service import Runtime, collect, prepare
from par_index.store import session_scope
from par_index.store.models import ReceivedFile, Score, SurveyProgress
from sqlalchemy import select

RECORDED = Path(__file__).parent / "recorded"
TOKEN = secrets.token_hex(8)  # made per run: the fake server checks the client sends it


class FakeMoha:
    """Serves recorded pages; ``behaviour`` switches to failures. Counts every request."""

    def __init__(self):
        self.behaviour = "recorded"
        self.hits = 0
        self.fail_first = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's hook name
                fake.hits += 1
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, b"{}")
                url = urlparse(self.path)
                page = int(parse_qs(url.query).get("page", ["1"])[0])
                if fake.behaviour == "500" or fake.hits <= fake.fail_first:
                    return self._send(500, b"oops")
                if fake.behaviour == "slow":
                    time.sleep(1.5)
                if fake.behaviour == "garbage":
                    return self._send(200, b"{not json")
                if fake.behaviour == "loop":
                    return self._send(200, json.dumps({"items": [], "next_page": page % 2 + 1}).encode())  # 1→2→1
                if "/scores" in url.path:
                    unit = parse_qs(url.query)["unit"][0]
                    file = RECORDED / f"scores_{unit}_page{page}.json"
                    body = file.read_bytes() if file.exists() else b'{"items": [], "next_page": null}'
                else:
                    body = (RECORDED / f"respondents_page{page}.json").read_bytes()
                return self._send(200, body)

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def moha():
    fake = FakeMoha()
    yield fake
    fake.server.shutdown()


def _client(moha, **kw):
    return PortalClient(FeedSettings(moha.url, token=TOKEN, read_timeout=kw.pop("read_timeout", 5),
                                     retries=kw.pop("retries", 2), backoff=0.01, **kw))


def test_recorded_pages_are_followed_to_the_last(moha):
    rows = _client(moha).scores(2023, ["STP"])
    assert [r[1] for r in rows] == ["2.p1.1", "2.p1.2", "2.p1.3"]
    assert rows[2][4] == "Chưa nộp"
    assert moha.hits == 2


def test_5xx_is_retried_with_backoff_then_succeeds(moha):
    moha.fail_first = 2
    assert len(_client(moha, retries=3).survey_progress(2023)) == 2
    assert moha.hits == 3


@pytest.mark.parametrize(("behaviour", "code", "hits"), [("500", "INT060", 3), ("slow", "INT060", 3),
                                                         ("garbage", "INT062", 1), ("loop", "INT063", 2)])
def test_failures_name_the_feed_after_the_retries(moha, behaviour, code, hits):
    moha.behaviour = behaviour
    with pytest.raises(FeedError) as info:
        _client(moha, retries=2, read_timeout=0.5).survey_progress(2023)
    assert info.value.code == code
    assert "tiến độ khảo sát" in info.value.message
    assert moha.hits == hits


def test_feed_records_are_stored_once_and_a_failing_feed_keeps_earlier_data(moha, runtime, campaign):
    rt = Runtime(runtime.store_url, portal=_client(moha))
    prepare(campaign, rt)
    collect(campaign, rt, "self_scores")
    collect(campaign, rt, "survey")
    collect(campaign, rt, "self_scores")  # the same snapshot again: nothing new
    with session_scope(rt.store_url) as s:
        scores = {(x.unit_code, x.criterion_code): x for x in s.scalars(select(Score).where(Score.source == "portal"))}
        progress = {p.email: p.status for p in s.scalars(select(SurveyProgress))}
        files = s.scalars(select(ReceivedFile)).all()
    assert str(scores[("STP", "2.p1.1")].score) == "0.75" and scores[("STP", "2.p1.3")].status == "draft"
    assert progress == {"an.nv.stp@hatinh.example": "completed", "binh.tt.stp@hatinh.example": "in_progress"}
    assert len(files) == 2 and all(f.archived_as.endswith(".json") for f in files)
    moha.behaviour = "500"
    with pytest.raises(FeedError):
        collect(campaign, rt, "self_scores")
    with session_scope(rt.store_url) as s:
        assert s.scalar(select(Score).where(Score.criterion_code == "2.p1.1")).score is not None
        assert len(s.scalars(select(ReceivedFile)).all()) == 2
