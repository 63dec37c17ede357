-- BM25 full-text search over the jieba words (`tokens`: titles and unique paragraphs).
--   SELECT * FROM search_articles(['马拉松']) LIMIT 5;
-- The query words must be cut by the same tokenizer (`newsetl search` does it). A word
-- matches every token containing it, so 马拉松 also finds 马拉松赛; words in the title
-- count twice. A one-character word matches only itself. k1 and b: the usual BM25 constants.
CREATE OR REPLACE MACRO search_articles(query_words, k1 := 1.2, b := 0.75) AS TABLE
WITH terms AS (
    SELECT DISTINCT unnest(query_words) AS term
),
doc_len AS (
    SELECT article_id, count(*) AS len FROM tokens GROUP BY article_id
),
corpus AS (
    SELECT count(*) AS n, avg(len) AS avgdl FROM doc_len
),
hits AS (
    SELECT t.term, k.article_id, sum(CASE WHEN k.paragraph_id LIKE '%-title' THEN 2 ELSE 1 END) AS tf
    FROM tokens k JOIN terms t ON k.word = t.term OR (length(t.term) >= 2 AND contains(k.word, t.term))
    GROUP BY t.term, k.article_id
),
df AS (
    SELECT term, count(*) AS df FROM hits GROUP BY term
)
SELECT h.article_id,
       sum(ln(1 + (c.n - df.df + 0.5) / (df.df + 0.5))
           * h.tf * (k1 + 1) / (h.tf + k1 * (1 - b + b * l.len / c.avgdl))) AS score,
       list(h.term ORDER BY h.term) AS matched
FROM hits h
JOIN df USING (term)
JOIN doc_len l USING (article_id)
CROSS JOIN corpus c
GROUP BY h.article_id
ORDER BY score DESC, h.article_id;
