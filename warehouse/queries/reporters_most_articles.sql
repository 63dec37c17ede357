-- Which reporters (记者) sign the most articles?
SELECT person AS reporter, count(DISTINCT article_id) AS articles, list(title ORDER BY title) AS titles
FROM article_people
WHERE role = 'reporter'
GROUP BY person
ORDER BY articles DESC, reporter;
