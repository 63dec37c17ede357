-- Quality issues per document: one row per (document, issue) with how often and an example.
CREATE OR REPLACE VIEW quality_issues AS
WITH issues AS (
    SELECT doc_id, 'rejected' AS issue, 1 AS n, reject_reason AS example
    FROM documents WHERE status = 'rejected'
    UNION ALL
    SELECT doc_id, flag, 1, left(text, 40)
    FROM (SELECT doc_id, text, unnest(quality_flags) AS flag FROM paragraphs)
    UNION ALL
    SELECT doc_id, 'duplicate_' || dup_status, 1, left(text, 40)
    FROM paragraphs WHERE dup_status <> 'unique'
    UNION ALL
    SELECT doc_id, 'untitled_article', 1, article_id
    FROM articles WHERE title IS NULL AND kind <> 'section'
    UNION ALL
    SELECT doc_id, 'news_without_byline', 1, title
    FROM articles WHERE byline IS NULL AND kind = 'news'
    UNION ALL
    SELECT a.doc_id, 'undated_article', 1, a.title
    FROM articles a JOIN documents d USING (doc_id)
    WHERE a.event_date IS NULL AND d.published_at IS NULL AND a.kind <> 'section'
    UNION ALL
    -- Row keys of documents, articles and paragraphs all start with the doc_id's first 16 digits.
    SELECT d.doc_id, 'quarantined_' || q.table_name, 1, q.reason
    FROM quarantine q JOIN documents d ON left(q.row_key, 16) = left(d.doc_id, 16)
)
SELECT i.doc_id, d.path, i.issue, sum(i.n) AS count, min(i.example) AS example
FROM issues i
JOIN documents d USING (doc_id)
GROUP BY i.doc_id, d.path, i.issue;
