-- How many articles (and of them photo stories) report on each day; undated ones under NULL.
CREATE OR REPLACE VIEW articles_per_date AS
SELECT day, count(*) AS articles, count(*) FILTER (WHERE kind = 'photo') AS photo_stories
FROM article_days
WHERE kind <> 'section'
GROUP BY day;
