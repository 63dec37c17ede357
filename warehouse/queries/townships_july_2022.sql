-- Which townships (镇, 乡, 街道) appear most in the news of July 2022?
SELECT place AS township, count(*) AS articles, sum(mentions) AS mentions, list(title ORDER BY day, title) AS titles
FROM article_places
WHERE place_level = 'township' AND month = '2022-07'
GROUP BY place
ORDER BY articles DESC, mentions DESC, township;
