-- Which articles report on nucleic-acid testing (核酸), best match first? BM25 search in SQL.
SELECT a.title, a.day, round(s.score, 3) AS score
FROM search_articles(['核酸']) s
JOIN article_days a USING (article_id)
ORDER BY s.score DESC, a.title;
