-- Every article with the day it reports on: its own date, else its page's publication date.
CREATE OR REPLACE VIEW article_days AS
SELECT a.article_id, a.doc_id, d.path, a.kind, a.title,
       coalesce(a.event_date, CAST(d.published_at AS DATE)) AS day,
       strftime(coalesce(a.event_date, CAST(d.published_at AS DATE)), '%Y-%m') AS month
FROM articles a
JOIN documents d USING (doc_id)
WHERE d.status = 'loaded';
