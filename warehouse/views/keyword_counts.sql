-- Each keyword: in how many articles' top keywords it is, with its summed TF-IDF weight.
CREATE OR REPLACE VIEW keyword_counts AS
SELECT k.keyword, count(*) AS articles, round(sum(k.weight), 4) AS weight, min(k.rank) AS best_rank
FROM article_keywords k
JOIN article_days a USING (article_id)
GROUP BY k.keyword;
