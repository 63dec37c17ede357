-- Which townships (镇, 乡, 街道) are named in the most articles, and over which days?
SELECT place AS township, count(*) AS articles, sum(mentions) AS mentions,
       min(day) AS first_day, max(day) AS last_day, list(title ORDER BY title) AS titles
FROM article_places
WHERE place_level = 'township'
GROUP BY place
ORDER BY articles DESC, mentions DESC, township;
