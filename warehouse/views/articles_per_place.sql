-- How many articles name each place, and how often in all.
CREATE OR REPLACE VIEW articles_per_place AS
SELECT place, place_level, count(*) AS articles, sum(mentions) AS mentions,
       min(day) AS first_day, max(day) AS last_day
FROM article_places
GROUP BY place, place_level;
