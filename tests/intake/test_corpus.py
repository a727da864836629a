"""Every awkward or bad file of the corpus has its exact outcome, and a run over the corpus plus the good sample
inbox keeps every good file's data."""

import os
import shutil
import time

import pytest
from par_index.intake.forms import parse_form
from par_index.intake.inbox import ingest
from par_index.intake.sheets import UnreadableFile, read_sheets
from par_index.paths import inbox_dir
from par_index.service import prepare
from par_index.store import session_scope
from par_index.store.models import IntakeIssue, Nominee, ReceivedFile, Score
from par_index_dev.sample_data import generate_inbox
from sqlalchemy import select
from support.corpus import build


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, build(folder)


def test_corpus_is_large_enough(corpus):
    """The cases support/corpus.py builds: 60 files, 33 of them refused (a case dropped by mistake shows here)."""
    _, cases = corpus
    assert (len(cases), sum(e.status == "rejected" for e in cases.values())) == (60, 33)


def _outcome(path, campaign):
    try:
        return parse_form(read_sheets(path), campaign)
    except UnreadableFile as exc:
        from par_index.intake.forms import ParsedForm

        return ParsedForm("unreadable", issues=[exc.issue])


def test_each_case_has_its_exact_outcome(corpus, campaign):
    folder, cases = corpus
    wrong = {}
    for name, expected in cases.items():
        form = _outcome(folder / name, campaign)
        actual = (
            "rejected" if form.rejected else "accepted",
            form.kind,
            frozenset((i.code, i.cell) for i in form.issues),
            len(form.records) if expected.records is not None else None,
            form.header.get("difficulties"),
        )
        if actual != (
            expected.status,
            expected.kind,
            expected.issues,
            expected.records,
            expected.difficulties,
        ):
            wrong[name] = (actual, expected)
    assert wrong == {}


def test_every_message_is_vietnamese_with_a_stable_code(corpus, campaign):
    """Every issue of every case: a code INTnnn, and a message in NFC Vietnamese (it has Vietnamese letters)."""
    import re
    import unicodedata

    vietnamese = re.compile("[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]")
    folder, cases = corpus
    off = [
        (name, issue.code, issue.message)
        for name in cases
        for issue in _outcome(folder / name, campaign).issues
        if not re.fullmatch(r"INT\d{3}", issue.code)
        or not vietnamese.search(issue.message.lower())
        or unicodedata.normalize("NFC", issue.message) != issue.message
    ]
    assert off == []


def test_corpus_and_good_files_together_keep_every_good_file(corpus, runtime, campaign):
    folder, cases = corpus
    prepare(campaign, runtime)
    generate_inbox(campaign)
    with session_scope(runtime.store_url) as s:
        ingest(s, campaign)
        good_scores = sorted(
            (x.source, x.unit_code, x.criterion_code, x.score) for x in s.scalars(select(Score))
        )
        good_nominees = sorted((n.unit_code, n.email) for n in s.scalars(select(Nominee)))
    bad = inbox_dir(campaign.id) / "corpus"
    shutil.copytree(folder, bad)
    an_hour_ago = time.time() - 3600  # arrived and finished: none is still being copied
    for path in bad.iterdir():
        os.utime(path, (an_hour_ago, an_hour_ago))
    with session_scope(runtime.store_url) as s:
        registered = ingest(s, campaign).results
    assert {r.name for r in registered} == {f"corpus/{name}" for name in cases}  # shown with their sub-folder
    by_name = {r.name.removeprefix("corpus/"): r for r in registered}
    for name, expected in cases.items():
        status = by_name[name].status
        assert status == expected.status or (expected.status == "accepted" and status == "superseded"), name
    with session_scope(runtime.store_url) as s:
        for source, unit, code, score in good_scores:
            if unit == "STP" and source == "report":
                continue  # the corpus's own accepted STP reports are newer versions of the STP report
            if source == "portal":
                continue  # the corpus's newer exports replace the portal snapshot
            assert (
                s.scalar(
                    select(Score.score).where(
                        Score.source == source, Score.unit_code == unit, Score.criterion_code == code
                    )
                )
                == score
            )
        nominees = sorted((n.unit_code, n.email) for n in s.scalars(select(Nominee)) if n.unit_code != "STP")
        assert nominees == [n for n in good_nominees if n[0] != "STP"]
        files = {f.original_name.removeprefix("corpus/"): f for f in s.scalars(select(ReceivedFile))}
        assert files["iii_with_password.xlsx"].archived_as == ""
        assert not (bad / "iii_with_password.xlsx").exists()  # moved out of the inbox
        errors = s.scalars(
            select(IntakeIssue).where(IntakeIssue.file_id == files["ii_above_maximum.xlsx"].id)
        ).all()
        assert [(e.code, e.cell, e.column) for e in errors] == [("INT026", "E8", "Điểm tự chấm")]
