-- Reporters, correspondents and photographers with the number of articles per role.
CREATE OR REPLACE VIEW people AS
SELECT person,
       list(DISTINCT role ORDER BY role) AS roles,
       count(DISTINCT article_id) AS articles,
       count(DISTINCT article_id) FILTER (WHERE role = 'reporter') AS as_reporter,
       count(DISTINCT article_id) FILTER (WHERE role = 'correspondent') AS as_correspondent,
       count(DISTINCT article_id) FILTER (WHERE role = 'photographer') AS photo_stories
FROM article_people
GROUP BY person;
