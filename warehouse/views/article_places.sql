-- Places (the user dictionary's ns entries) named in each article's title or unique text.
-- A word containing a place counts for it: 牡丹区医保局 names 牡丹区, 东明县水务局 东明县.
CREATE OR REPLACE VIEW article_places AS
SELECT l.word AS place, l.place_level, t.article_id, a.title, a.day, a.month, count(*) AS mentions
FROM tokens t
JOIN lexicon l ON l.tag = 'ns' AND contains(t.word, l.word)
JOIN article_days a USING (article_id)
GROUP BY ALL;
