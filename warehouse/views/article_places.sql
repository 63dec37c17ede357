-- Places (the user dictionary's ns entries) named in each article's title or unique text.
CREATE OR REPLACE VIEW article_places AS
SELECT l.word AS place, l.place_level, t.article_id, a.title, a.day, a.month, count(*) AS mentions
FROM tokens t
JOIN lexicon l ON l.word = t.word AND l.tag = 'ns'
JOIN article_days a USING (article_id)
GROUP BY ALL;
