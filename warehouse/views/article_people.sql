-- One row per person named on an article, with the role the byline or caption gives them.
CREATE OR REPLACE VIEW article_people AS
WITH named AS (
    SELECT article_id, unnest(reporters) AS person, 'reporter' AS role FROM articles
    UNION ALL
    SELECT article_id, unnest(correspondents), 'correspondent' FROM articles
    UNION ALL
    SELECT article_id, unnest(photographers), 'photographer' FROM articles
)
SELECT n.person, n.role, a.article_id, a.kind, a.title, a.day
FROM named n
JOIN article_days a USING (article_id);
