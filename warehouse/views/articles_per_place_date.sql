-- Articles naming each place per day (day NULL: the article and its page carry no date).
CREATE OR REPLACE VIEW articles_per_place_date AS
SELECT place, place_level, day, count(*) AS articles, sum(mentions) AS mentions
FROM article_places
GROUP BY place, place_level, day;
