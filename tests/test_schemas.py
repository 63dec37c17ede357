"""The data contract, one model at a time: a valid row passes, and each check rejects a row
made to break exactly it (a few rules are tied together and break in pairs, as noted)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import polars as pl
import pytest

from flows.steps.tables import ARTICLE_SCHEMA, DOCUMENT_SCHEMA
from flows.steps.tables import PARAGRAPH_SCHEMA as PARAGRAPH_STAGE_SCHEMA
from flows.steps.tokenize import KEYWORD_SCHEMA, WORD_LIST_SCHEMA
from schemas.checks import EARLIEST_NEWS_DATE, today_in_china
from schemas.contract import CONTRACTS, validate_batch, validate_table
from warehouse import db as warehouse

DOC = hashlib.sha256(b"page one").hexdigest()
OTHER_DOC = hashlib.sha256(b"page two").hexdigest()
AID = f"{DOC[:16]}-a000"
PID = f"{AID}-p000"
FUTURE = today_in_china() + dt.timedelta(days=2)
TOO_OLD = EARLIEST_NEWS_DATE - dt.timedelta(days=1)

# The paragraphs frame as dedup leaves it: the stage columns, then the duplicate marking.
PARAGRAPH_SCHEMA = PARAGRAPH_STAGE_SCHEMA | {
    "norm_version": pl.Int32,
    "norm_hash": pl.String,
    "dup_status": pl.String,
    "dup_of": pl.String,
    "similarity": pl.Float64,
    "dup_method": pl.String,
    "cluster_size": pl.Int32,
}
SCHEMAS = {
    "documents": DOCUMENT_SCHEMA,
    "articles": ARTICLE_SCHEMA,
    "paragraphs": PARAGRAPH_SCHEMA,
    "tokens": WORD_LIST_SCHEMA,  # one row per text (flows.steps.tokenize.cut_word_lists)
    "article_keywords": KEYWORD_SCHEMA,
}


def document(**change) -> dict:
    row = {
        "doc_id": DOC,
        "path": "000_page.txt",
        "size_bytes": 5836,
        "mtime_ns": 1_700_000_000_000_000_000,
        "encoding": "utf-8",
        "script": "simplified",
        "source": "大众日报",
        "published_at": dt.datetime(2022, 2, 8, 19, 41, 46),
        "editor": "张晓",
        "status": "loaded",
        "reject_reason": None,
        "retryable": False,
    }
    return row | change


def article(**change) -> dict:
    row = {
        "article_id": AID,
        "doc_id": DOC,
        "seq": 0,
        "kind": "news",
        "title": "动起来 跑起来 干起来",
        "subtitle": None,
        "kicker": "永丰街道会盟社区:",
        "byline": "通讯员 郭玉华 蒋硕 记者 郭卫东",
        "reporters": ["郭卫东"],
        "correspondents": ["郭玉华", "蒋硕"],
        # the documented exception: a transliterated name, Han parts joined by a middle dot
        "photographers": ["欧阳修文", "买买提·艾力"],
        "event_date": dt.date(2022, 2, 7),
        "chars": 12,
    }
    return row | change


def paragraph(**change) -> dict:
    text = change.get("text", "春节假期结束,开工第一天。")
    row = {
        "paragraph_id": PID,
        "article_id": AID,
        "doc_id": DOC,
        "seq": 0,
        "text": text,
        "text_raw": text,
        "chars": len(text),
        "joined_from": 1,
        "quality_flags": [],
        "norm_version": 1,
        "norm_hash": "0" * 32,
        "dup_status": "unique",
        "dup_of": None,
        "similarity": None,
        "dup_method": None,
        "cluster_size": 1,
    }
    return row | change


def token(**change) -> dict:
    return {"paragraph_id": PID, "article_id": AID, "words": ["春节", "开工"]} | change


def keyword(**change) -> dict:
    return {"article_id": AID, "rank": 1, "keyword": "春节", "weight": 0.5} | change


def keyword_second(**change) -> dict:
    return keyword(**({"rank": 2, "keyword": "开工"} | change))


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMAS[table])


# A second row, distinct from the valid one in its key, to break in each case.
SECOND = {
    "documents": lambda **c: document(**({"doc_id": OTHER_DOC, "path": "001_page.txt"} | c)),
    "articles": lambda **c: article(**({"article_id": f"{DOC[:16]}-a001", "seq": 1} | c)),
    "paragraphs": lambda **c: paragraph(**({"paragraph_id": f"{AID}-p001", "seq": 1} | c)),
    "tokens": lambda **c: token(**({"paragraph_id": f"{AID}-title"} | c)),
    "article_keywords": keyword_second,
}
VALID = {
    "documents": document,
    "articles": article,
    "paragraphs": paragraph,
    "tokens": token,
    "article_keywords": keyword,
}
# Foreign keys of the valid rows: their parents are in the batch.
ALLOWED = {
    "documents": {},
    "articles": {"doc_id": {DOC}},
    "paragraphs": {"article_id": {AID}, "dup_of": {PID, f"{AID}-p001"}},
    "tokens": {"article_id": {AID}, "paragraph_id": {PID, f"{AID}-title"}},
    "article_keywords": {"article_id": {AID}},
}

CASES = [
    # documents
    ("documents", {"doc_id": "not-a-sha256"}, {"str_matches"}),
    ("documents", {"path": ""}, {"str_length"}),
    ("documents", {"size_bytes": -1}, {"greater_than_or_equal_to"}),
    ("documents", {"script": "klingon"}, {"isin"}),
    ("documents", {"status": "half-loaded"}, {"isin"}),
    ("documents", {"published_at": dt.datetime.combine(FUTURE, dt.time())}, {"published_in_news_range"}),
    ("documents", {"published_at": dt.datetime.combine(TOO_OLD, dt.time())}, {"published_in_news_range"}),
    ("documents", {"source": "  "}, {"not_blank"}),
    ("documents", {"status": "rejected"}, {"rejected_has_reason"}),
    ("documents", {"reject_reason": "empty file"}, {"rejected_has_reason"}),
    ("documents", {"retryable": True}, {"retryable_only_if_rejected"}),
    ("documents", {"encoding": None}, {"loaded_has_encoding"}),
    # articles
    ("articles", {"article_id": f"{DOC[:16]}-x001"}, {"str_matches", "id_matches_doc_and_seq"}),
    ("articles", {"seq": 2}, {"id_matches_doc_and_seq"}),
    ("articles", {"doc_id": OTHER_DOC, "article_id": f"{OTHER_DOC[:16]}-a001"}, {"fk_doc_id"}),
    ("articles", {"kind": "advert"}, {"isin"}),
    ("articles", {"title": "  "}, {"not_blank"}),
    ("articles", {"title": "春节\x07假期"}, {"no_control_or_private_use"}),
    ("articles", {"subtitle": "春节\ue000假期"}, {"no_control_or_private_use"}),
    ("articles", {"title": "日(rì)报"}, {"no_pinyin_annotation"}),
    ("articles", {"kicker": "大眾日報:"}, {"no_traditional_chars"}),
    ("articles", {"reporters": ["郭"]}, {"person_names"}),
    ("articles", {"correspondents": ["郭玉华蒋硕记"]}, {"person_names"}),
    ("articles", {"photographers": ["John Smith"]}, {"person_names"}),
    ("articles", {"event_date": FUTURE}, {"event_date_in_news_range"}),
    ("articles", {"event_date": TOO_OLD}, {"event_date_in_news_range"}),
    ("articles", {"chars": -1}, {"greater_than_or_equal_to"}),
    # paragraphs
    ("paragraphs", {"paragraph_id": f"{AID}-q001"}, {"str_matches", "id_matches_article_and_seq"}),
    ("paragraphs", {"seq": 2}, {"id_matches_article_and_seq"}),
    ("paragraphs", {"text": "   "}, {"not_blank"}),
    ("paragraphs", {"text": "开工\x85第一天。"}, {"no_control_or_private_use"}),
    ("paragraphs", {"text": "开工\U000f0001第一天。"}, {"no_control_or_private_use"}),
    ("paragraphs", {"text": "报(bào)道第一天。"}, {"no_pinyin_annotation"}),
    ("paragraphs", {"text": "開工第一天。"}, {"no_traditional_chars"}),
    ("paragraphs", {"chars": 3}, {"chars_is_text_length"}),
    ("paragraphs", {"text_raw": ""}, {"str_length"}),
    ("paragraphs", {"joined_from": 0}, {"greater_than_or_equal_to"}),
    ("paragraphs", {"norm_hash": "xyz"}, {"str_matches"}),
    ("paragraphs", {"dup_status": "exact"}, {"dup_of_iff_duplicate"}),
    ("paragraphs", {"dup_of": PID}, {"dup_of_iff_duplicate"}),
    ("paragraphs", {"dup_status": "fuzzy", "dup_of": PID, "similarity": 0.9}, {"isin"}),
    ("paragraphs", {"dup_status": "near", "dup_of": PID, "similarity": 1.5}, {"less_than_or_equal_to"}),
    ("paragraphs", {"dup_status": "near", "dup_of": PID, "similarity": -0.1}, {"greater_than_or_equal_to"}),
    (
        "paragraphs",
        {"dup_status": "exact", "dup_of": f"{AID}-p001", "similarity": 1.0},
        {"not_duplicate_of_itself"},
    ),
    ("paragraphs", {"dup_status": "exact", "dup_of": f"{AID}-p009", "similarity": 1.0}, {"fk_dup_of"}),
    ("paragraphs", {"doc_id": OTHER_DOC}, {"article_of_doc"}),
    (
        "paragraphs",
        {"article_id": f"{DOC[:16]}-a004", "paragraph_id": f"{DOC[:16]}-a004-p001"},
        {"fk_article_id"},
    ),
    ("paragraphs", {"cluster_size": 0}, {"greater_than_or_equal_to"}),
    ("paragraphs", {"norm_version": 0}, {"greater_than_or_equal_to"}),
    (
        "paragraphs",
        {"dup_status": "exact", "dup_of": "not-an-id", "similarity": 1.0},
        {"str_matches", "fk_dup_of"},
    ),
    # tokens
    ("tokens", {"words": ["春节", ""]}, {"no_empty_word"}),
    ("tokens", {"words": ["春 节"]}, {"word_has_no_space_or_control"}),
    ("tokens", {"paragraph_id": PID}, {"field_uniqueness"}),  # both rows hold one text's words
    ("tokens", {"paragraph_id": f"{AID}-p009"}, {"fk_paragraph_id"}),
    ("tokens", {"paragraph_id": f"{DOC[:16]}-a001-title"}, {"fk_paragraph_id", "paragraph_of_article"}),
    (
        "tokens",
        {"article_id": f"{DOC[:16]}-a007", "paragraph_id": f"{DOC[:16]}-a007-title"},
        {"fk_article_id", "fk_paragraph_id"},
    ),
    ("tokens", {"paragraph_id": f"{AID}-x001"}, {"str_matches", "fk_paragraph_id"}),
    # article keywords
    ("article_keywords", {"article_id": "ABCDEF0123456789-a000"}, {"str_matches", "fk_article_id"}),
    ("article_keywords", {"rank": 0}, {"greater_than_or_equal_to"}),
    ("article_keywords", {"rank": 99}, {"less_than_or_equal_to"}),
    ("article_keywords", {"keyword": "春"}, {"str_length"}),
    ("article_keywords", {"keyword": "春\t节"}, {"keyword_has_no_space_or_control"}),
    ("article_keywords", {"weight": 0.0}, {"greater_than"}),
    ("article_keywords", {"keyword": "春节"}, {"keyword_unique_per_article"}),  # both rows share it
    ("article_keywords", {"rank": 1}, {"rank_unique_per_article"}),  # both rows share a rank
    ("article_keywords", {"article_id": f"{DOC[:16]}-a003"}, {"fk_article_id"}),
]


@pytest.mark.parametrize("table", list(VALID))
def test_a_valid_row_passes(table):
    rows = frame(table, [VALID[table](), SECOND[table]()])
    result = validate_table(table, rows, ALLOWED[table])
    assert result.good.height == 2
    assert result.quarantine.height == 0


@pytest.mark.parametrize(
    ("table", "change", "checks"), CASES, ids=[f"{c[0]}-{sorted(c[2])[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_check_rejects_a_row_made_to_break_it(table, change, checks):
    rows = frame(table, [VALID[table](), SECOND[table](**change)])
    result = validate_table(table, rows, ALLOWED[table])

    pair_rule = checks & {
        "field_uniqueness",
        "rank_unique_per_article",
        "keyword_unique_per_article",
    }
    if pair_rule:  # a rule over two rows fails both
        assert result.good.height == 0
        assert {q["check_name"] for q in result.quarantine.to_dicts()} == {",".join(sorted(checks))}
        return
    assert result.good.to_dicts() == frame(table, [VALID[table]()]).to_dicts()
    (bad,) = result.quarantine.to_dicts()
    assert set(bad["check_name"].split(",")) == checks
    assert bad["table_name"] == table
    assert bad["reason"]
    stored = json.loads(bad["row_json"])
    stored = stored[0] if isinstance(stored, list) else stored  # tokens/keywords: rows of one key
    assert all(str(stored[k]) == str(v) for k, v in change.items() if not isinstance(v, dt.date))


@pytest.mark.parametrize("table", ["documents", "articles", "paragraphs"])
def test_duplicate_ids_quarantine_both_rows(table):
    result = validate_table(table, frame(table, [VALID[table](), VALID[table]()]), ALLOWED[table])
    assert result.good.height == 0
    assert [q["check_name"] for q in result.quarantine.to_dicts()] == ["field_uniqueness"] * 2


@pytest.mark.parametrize("table", list(VALID))
def test_every_check_of_every_model_has_a_case_above(table):
    contract = CONTRACTS[table]
    schema = contract.model.to_schema()
    defined = {c.name for c in schema.checks}
    for column in schema.columns.values():
        defined |= {c.name for c in column.checks} | ({"field_uniqueness"} if column.unique else set())
    defined |= {f"fk_{fk.column}" for fk in contract.foreign_keys}
    covered = {name for t, _, checks in CASES if t == table for name in checks}
    covered |= {"field_uniqueness"} if table in ("documents", "articles", "paragraphs") else set()
    assert defined - covered == set()


def test_reasons_read_as_sentences():
    rows = frame("paragraphs", [paragraph(), SECOND["paragraphs"](text="開工\x07第一天。")])
    (bad,) = validate_table("paragraphs", rows, ALLOWED["paragraphs"]).quarantine.to_dicts()
    assert bad["check_name"] == "no_control_or_private_use,no_traditional_chars"
    assert "control or private-use character" in bad["reason"]
    assert "Traditional character not converted" in bad["reason"]


# --- the whole batch: children follow a quarantined parent ----------------------------------


def batch(**tables: list[dict]) -> dict[str, pl.DataFrame]:
    return {t: frame(t, rows) for t, rows in tables.items()}


def test_a_quarantined_article_takes_its_paragraphs_words_and_keywords():
    bad_aid = f"{DOC[:16]}-a001"
    bad_pid = f"{bad_aid}-p000"
    result = validate_batch(
        batch(
            documents=[document()],
            articles=[article(), article(article_id=bad_aid, seq=1, event_date=FUTURE)],
            paragraphs=[paragraph(), paragraph(paragraph_id=bad_pid, article_id=bad_aid)],
            tokens=[
                token(),
                token(paragraph_id=bad_pid, article_id=bad_aid),
                token(paragraph_id=f"{bad_aid}-title", article_id=bad_aid),
            ],
            article_keywords=[keyword(), keyword(article_id=bad_aid)],
        )
    )
    assert [t.height for t in result.tables.values()] == [1, 1, 1, 1, 1]
    q = {(r["table_name"], r["row_key"]): r for r in result.quarantine.to_dicts()}
    assert set(q) == {
        ("articles", bad_aid),
        ("paragraphs", bad_pid),
        ("tokens", bad_pid),
        ("tokens", f"{bad_aid}-title"),
        ("article_keywords", bad_aid),
    }
    assert q[("articles", bad_aid)]["check_name"] == "event_date_in_news_range"
    assert "quarantined" in q[("paragraphs", bad_pid)]["reason"]
    assert json.loads(q[("tokens", bad_pid)]["row_json"])[0]["words"] == ["春节", "开工"]  # its words kept
    assert result.failed_rows() == 2  # article and paragraph; words are derived


def test_a_document_breaking_the_contract_is_kept_as_rejected_and_its_articles_quarantined():
    future = dt.datetime.combine(FUTURE, dt.time(8))
    result = validate_batch(
        batch(documents=[document(published_at=future)], articles=[article()], paragraphs=[paragraph()])
    )
    (doc,) = result.tables["documents"].to_dicts()
    assert (doc["status"], doc["published_at"], doc["retryable"]) == ("rejected", None, False)
    assert doc["reject_reason"].startswith("breaks the data contract: published_at")
    assert result.rejected_doc_ids == {DOC}
    assert result.tables["articles"].height == result.tables["paragraphs"].height == 0
    tables = sorted(r["table_name"] for r in result.quarantine.to_dicts())
    assert tables == ["articles", "documents", "paragraphs"]
    stored = json.loads(result.quarantine.filter(pl.col("table_name") == "documents")["row_json"][0])
    assert stored["published_at"].startswith(str(FUTURE))  # the row as it was


def test_duplicates_of_a_quarantined_paragraph_follow_it():
    dup_id = f"{AID}-p001"
    result = validate_batch(
        batch(
            documents=[document()],
            articles=[article()],
            paragraphs=[
                paragraph(text="開工第一天。"),  # breaks the contract
                paragraph(paragraph_id=dup_id, seq=1, dup_status="exact", dup_of=PID, similarity=1.0),
            ],
        )
    )
    assert result.tables["paragraphs"].height == 0
    reasons = {r["row_key"]: (r["check_name"], r["reason"]) for r in result.quarantine.to_dicts()}
    assert reasons[PID][0] == "no_traditional_chars"
    assert reasons[dup_id][0] == "fk_dup_of"
    assert "quarantined" in reasons[dup_id][1]


def test_foreign_keys_may_point_into_the_warehouse(tmp_path):
    db = tmp_path / "w.duckdb"
    stored_pid = f"{OTHER_DOC[:16]}-a000-p000"
    stored_para = paragraph(paragraph_id=stored_pid, article_id=f"{OTHER_DOC[:16]}-a000", doc_id=OTHER_DOC)
    warehouse.load_batch(db, {"paragraphs": frame("paragraphs", [stored_para])})
    lookup = lambda *key: warehouse.stored_keys(db, *key)  # noqa: E731
    copy = paragraph(dup_status="exact", dup_of=stored_pid, similarity=1.0)
    dangling = paragraph(
        paragraph_id=f"{AID}-p001",
        seq=1,
        dup_status="exact",
        dup_of=f"{OTHER_DOC[:16]}-a000-p009",
        similarity=1.0,
    )

    result = validate_batch(
        batch(documents=[document()], articles=[article()], paragraphs=[copy, dangling]), lookup
    )

    assert result.tables["paragraphs"]["paragraph_id"].to_list() == [PID]
    (bad,) = result.quarantine.to_dicts()
    assert (bad["row_key"], bad["check_name"]) == (f"{AID}-p001", "fk_dup_of")
    assert "neither in this batch nor in the warehouse" in bad["reason"]


def test_words_checked_after_their_rows_of_record_find_their_parents_stored(tmp_path):
    # flows/ingest.py stages a wave's documents, articles and paragraphs, then checks its
    # words alone: every parent, a title row's article included, is looked up as stored.
    db = tmp_path / "w.duckdb"
    run = {"run_id": "r1", "ingested_at": dt.datetime(2026, 1, 1)}
    documents = frame("documents", [document()]).with_columns(**{k: pl.lit(v) for k, v in run.items()})
    warehouse.load_batch(
        db, {**batch(articles=[article()], paragraphs=[paragraph()]), "documents": documents}
    )
    lookup = lambda *key: warehouse.stored_keys(db, *key)  # noqa: E731
    other = f"{OTHER_DOC[:16]}-a000"
    words = [
        token(),
        token(paragraph_id=f"{AID}-title"),
        token(paragraph_id=f"{other}-title", article_id=other),  # its article was never stored
    ]

    result = validate_batch(
        {"tokens": frame("tokens", words), "article_keywords": frame("article_keywords", [keyword()])}, lookup
    )

    assert result.tables["tokens"]["paragraph_id"].to_list() == [PID, f"{AID}-title"]
    assert result.tables["article_keywords"].height == 1
    assert result.quarantine["row_key"].to_list() == [f"{other}-title"]
