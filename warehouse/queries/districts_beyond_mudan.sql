-- Which districts and counties other than 牡丹区 does the paper report on, and how often?
SELECT place AS district, count(*) AS articles, list(title ORDER BY title) AS titles
FROM article_places
WHERE place_level = 'district' AND place <> '牡丹区'
GROUP BY place
ORDER BY articles DESC, district;
