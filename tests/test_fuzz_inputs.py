"""Property tests: random bytes and random text as inbox files never crash the pipeline, and
every file ends loaded (its rows stored or quarantined) or rejected with a reason.

Most examples go through the per-file stage functions and the contract directly (fast,
no Prefect); a few whole-flow runs check the same end to end in a real warehouse.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.steps.dedup import mark_duplicates
from flows.steps.discover import list_inbox, new_file_versions
from flows.steps.tables import articles_frame, documents_frame, paragraphs_frame
from flows.steps.tokenize import article_keywords, cut_word_lists, words_of
from flows.tasks import Batch, chunk_files, texts_to_tokenize
from flows.text_work import clean_doc, decode_doc, repair_doc, segment_doc
from schemas.contract import validate_batch
from warehouse.dedup_index import history_lookup

# Pieces of newspaper pages and of the things that go wrong in them.
FRAGMENTS = [
    "来源:大众日报 2022-02-08 19:41:46",
    "来源:牡丹晚报 2031-01-01",
    "本报讯(记者 郭卫东)",
    "(通讯员 郭玉华 蒋硕 牡丹晚报全媒体记者 郭卫东)",
    "记者 张三 摄",
    "春节假期结束,开工第一天。",
    "報(bào)道",
    "日?qǐng)",
    "\ue000\U000f0001",
    "\x00\x07\x1b\x85",
    "7月28日",
    "2031年5月1日",
    "1920年5月4日",
    "## 魅力牡丹区",
    "您的位置:首页>要闻",
    "A+A-",
    "分享",
    "——侧记",
    "\n",
    "\n\n",
    " ",
    "\u3000\u3000",
    "。",
    "买买提·艾力",
]
page_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=40).map("".join)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030", "big5", "utf-32"])
encoded_page = st.tuples(page_text, encodings).map(lambda t: t[0].encode(t[1], errors="ignore"))
file_bytes = st.one_of(st.binary(max_size=3000), st.text(max_size=2000).map(str.encode), encoded_page)


def run_stages(inbox: Path) -> tuple[list, Batch]:
    """The per-file stages and the batch stages up to validate, without Prefect."""
    files = new_file_versions(list_inbox(inbox), {}, set())
    chunks = chunk_files(files, 1 << 20)
    for chunk in chunks:
        for stage, fn in (
            ("decode", decode_doc),
            ("clean", clean_doc),
            ("repair", repair_doc),
            ("segment", segment_doc),
        ):
            chunk.timed(stage, fn)
    docs = [d for c in chunks for d in c.docs]
    batch = Batch(documents_frame(docs), articles_frame(docs), paragraphs_frame(docs))
    batch.paragraphs = mark_duplicates(
        batch.paragraphs, batch.documents, history_lookup(inbox / "none.duckdb")
    ).paragraphs
    lists = cut_word_lists(texts_to_tokenize(batch))
    tables = {
        "documents": batch.documents,
        "articles": batch.articles,
        "paragraphs": batch.paragraphs,
        "tokens": lists,
        "article_keywords": article_keywords(words_of(lists)),
    }
    return docs, validate_batch(tables)


def assert_every_file_accounted_for(inbox: Path, names: list[str], documents: pl.DataFrame) -> None:
    """Each file is a documents row, or has the bytes of one (a file version is its content)."""
    rows = {r["path"]: r for r in documents.to_dicts()}
    ids = {r["doc_id"] for r in rows.values()}
    for name in names:
        if name in rows:
            row = rows[name]
            assert row["status"] in ("loaded", "rejected")
            assert (row["status"] == "rejected") == bool(row["reject_reason"])
        else:
            assert hashlib.sha256((inbox / name).read_bytes()).hexdigest() in ids, name


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=file_bytes)
def test_any_bytes_end_loaded_or_rejected_with_a_reason(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp)
        (inbox / "page.txt").write_bytes(data)
        docs, result = run_stages(inbox)

        (doc,) = docs
        assert doc.file.doc_id
        documents = result.tables["documents"]
        assert_every_file_accounted_for(inbox, ["page.txt"], documents)
        if doc.rejected:
            assert doc.file.reject_reason.strip()
            assert documents["status"].to_list() == ["rejected"]
            return
        # loaded, or rejected by the contract: then every row it had is in quarantine
        quarantined = result.quarantine
        assert quarantined["reason"].str.len_chars().min() or quarantined.height == 0
        if documents["status"][0] == "rejected":
            assert "breaks the data contract" in documents["reject_reason"][0]
            assert quarantined.filter(pl.col("table_name") == "documents").height == 1
        stored_or_quarantined = (
            result.tables["paragraphs"].height
            + quarantined.filter(pl.col("table_name") == "paragraphs").height
        )
        assert stored_or_quarantined == sum(len(a.paragraphs) for a in doc.articles)


@pytest.mark.slow
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(files=st.lists(file_bytes, min_size=3, max_size=12))
def test_whole_runs_on_random_inboxes_never_crash(files: list[bytes], run_flow, monkeypatch):
    monkeypatch.setenv("NEWSETL_MAX_FAILED_SHARE", "1")  # the threshold is not under test here
    with tempfile.TemporaryDirectory() as tmp:
        inbox, db = Path(tmp) / "inbox", Path(tmp) / "w.duckdb"
        inbox.mkdir()
        names = [f"{i:03d}.txt" for i in range(len(files))]
        for name, data in zip(names, files, strict=True):
            (inbox / name).write_bytes(data)

        summary = run_flow(inbox, db)

        assert summary.status == "completed"
        con = duckdb.connect(str(db), read_only=True)
        columns = ["path", "doc_id", "status", "reject_reason"]
        rows = con.execute(f"SELECT {', '.join(columns)} FROM documents").fetchall()
        documents = pl.DataFrame(rows, schema=columns, orient="row")
        reasons = con.execute(
            "SELECT count(*) FROM quarantine WHERE reason = '' OR reason IS NULL"
        ).fetchone()[0]
        con.close()
        assert_every_file_accounted_for(inbox, names, documents)
        assert reasons == 0
        assert run_flow(inbox, db).files_new == 0  # and nothing is read again
