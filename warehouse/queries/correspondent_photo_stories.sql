-- Which correspondents (通讯员) file the most photo stories? A photographer is a
-- correspondent when the photo's credit names them after 通讯员 (通讯员 鄢玉华 顾文雅 摄),
-- not after 记者 (记者 付凤臣摄). The credit is read from the byline and the lines as printed.
WITH credits AS (
    SELECT a.article_id, a.title,
           concat_ws(' ', a.byline, (SELECT string_agg(p.text_raw, ' ') FROM paragraphs p WHERE p.article_id = a.article_id))
               AS credit
    FROM articles a
    WHERE a.kind = 'photo'
)
SELECT ap.person AS correspondent, count(*) AS photo_stories, list(coalesce(c.title, c.article_id) ORDER BY c.title) AS titles  -- an untitled photo by its id
FROM article_people ap
JOIN credits c USING (article_id)
WHERE ap.role = 'photographer'
  AND list_bool_or([contains(names, ap.person) FOR names IN regexp_extract_all(c.credit, '通讯员([^记摄]*)', 1)])
GROUP BY ap.person
ORDER BY photo_stories DESC, correspondent;
