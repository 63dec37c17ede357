-- Tables of the tokenize stage beyond `tokens`: keywords per article and the user dictionary.

CREATE TABLE IF NOT EXISTS article_keywords (
    article_id VARCHAR NOT NULL,
    rank       INTEGER NOT NULL,                 -- 1 = the heaviest keyword of the article
    keyword    VARCHAR NOT NULL,
    weight     DOUBLE NOT NULL                   -- TF-IDF: share of the article's words * jieba IDF
    -- (article_id, rank) is unique: checked by the load, not by a PRIMARY KEY (001_tables.sql)
);

-- The jieba user dictionary (warehouse/dict/userdict.txt) as loaded by the last run: the
-- place list of the views is its entries tagged ns.
CREATE TABLE IF NOT EXISTS lexicon (
    word        VARCHAR PRIMARY KEY,
    tag         VARCHAR NOT NULL,                -- jieba part of speech: ns place, nt organisation
    place_level VARCHAR                          -- city / district / township / village (ns only)
);
