"""Feeds of MoHA's software against a real HTTP server on loopback: recorded pages, 500s, slow answers,
malformed JSON and a page loop."""

import pytest
from par_index.intake.feeds import FeedError, FeedSettings, PortalClient
from par_index.runtime import Runtime
from par_index.service import collect, prepare
from par_index.store import session_scope
from par_index.store.models import CollectionFailure, ReceivedFile, Score, SurveyProgress
from sqlalchemy import select
from support.moha_server import TOKEN, FakeMoha


@pytest.fixture
def moha():
    fake = FakeMoha()
    yield fake
    fake.server.shutdown()


def _client(moha, **kw):
    return PortalClient(
        FeedSettings(
            moha.url,
            token=TOKEN,
            read_timeout=kw.pop("read_timeout", 5),
            retries=kw.pop("retries", 2),
            backoff=0.01,
            **kw,
        )
    )


def test_recorded_pages_are_followed_to_the_last(moha):
    rows = _client(moha).scores(2023, ["STP"])
    assert [r[1] for r in rows] == ["2.p1.1", "2.p1.2", "2.p1.3"]
    assert rows[2][4] == "Chưa nộp"
    assert moha.hits == 2


def test_5xx_is_retried_with_backoff_then_succeeds(moha):
    moha.fail_first = 2
    assert len(_client(moha, retries=3).survey_progress(2023)) == 2
    assert moha.hits == 3


@pytest.mark.parametrize(
    ("behaviour", "code", "hits"),
    [("500", "INT060", 3), ("slow", "INT060", 3), ("garbage", "INT062", 1), ("loop", "INT063", 2)],
)
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
        scores = {
            (x.unit_code, x.criterion_code): x
            for x in s.scalars(select(Score).where(Score.source == "portal"))
        }
        progress = {p.email: p.status for p in s.scalars(select(SurveyProgress))}
        files = s.scalars(select(ReceivedFile)).all()
    assert str(scores[("STP", "2.p1.1")].score) == "0.75" and scores[("STP", "2.p1.3")].status == "draft"
    assert progress == {"an.nv.stp@hatinh.example": "completed", "binh.tt.stp@hatinh.example": "in_progress"}
    assert len(files) == 2 and all(f.archived_as.endswith(".json") for f in files)
    moha.behaviour = "500"
    result = collect(campaign, rt, "self_scores")  # recorded, answered from the inbox: the phase goes on
    assert (result["feed_error"]["source"], result["feed_error"]["code"]) == (
        "Phần mềm chấm điểm CCHC",
        "INT060",
    )
    with session_scope(rt.store_url) as s:
        assert s.scalar(select(Score).where(Score.criterion_code == "2.p1.1")).score is not None
        assert len(s.scalars(select(ReceivedFile)).all()) == 2
        failures = s.scalars(select(CollectionFailure)).all()
    assert [(f.phase, f.code, f.source) for f in failures] == [
        ("self_scores", "INT060", "Phần mềm chấm điểm CCHC")
    ]


def test_the_softwares_statuses_are_passed_on_as_given(monkeypatch):
    """submitted / draft become the export's “Đã nộp” / “Chưa nộp”; any other status is passed on, for the reader
    to refuse (never silently a draft)."""
    client = PortalClient(FeedSettings("http://127.0.0.1:9"))
    items = [
        {
            "unit": "STP",
            "criterion": "2.p1.1",
            "score": 1,
            "evidence_count": 2,
            "status": s,
            "updated_at": None,
        }
        for s in ("submitted", "draft", "approved")
    ]
    monkeypatch.setattr(client, "_pages", lambda *_: items)
    assert [row[4] for row in client.scores(2023, ["STP"])] == ["Đã nộp", "Chưa nộp", "approved"]
