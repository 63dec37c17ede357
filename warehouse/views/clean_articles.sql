-- Article text with repeated paragraphs left out (as in clean_paragraphs), paragraphs in order.
-- (Views load in file-name order, so this one reads paragraphs, not the later view.)
CREATE OR REPLACE VIEW clean_articles AS
SELECT
    a.article_id,
    a.doc_id,
    a.seq,
    a.kind,
    a.title,
    a.byline,
    a.event_date,
    count(p.paragraph_id) AS paragraphs,
    coalesce(sum(p.chars), 0) AS chars,
    coalesce(string_agg(p.text, chr(10) ORDER BY p.seq), '') AS text
FROM articles a
JOIN documents d ON d.doc_id = a.doc_id AND d.status = 'loaded'
LEFT JOIN paragraphs p ON p.article_id = a.article_id AND p.dup_status = 'unique'
GROUP BY ALL;
