-- Keywords per day of the articles they describe.
CREATE OR REPLACE VIEW keyword_counts_daily AS
SELECT a.day, k.keyword, count(*) AS articles, round(sum(k.weight), 4) AS weight
FROM article_keywords k
JOIN article_days a USING (article_id)
GROUP BY a.day, k.keyword;
