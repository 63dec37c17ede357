-- Every duplicate paragraph next to the paragraph kept in its place (possibly from an
-- earlier run): both texts, files and articles, the similarity and how it was found.
CREATE OR REPLACE VIEW duplicate_pairs AS
SELECT
    d.dup_status,
    d.similarity,
    d.dup_method,
    d.paragraph_id  AS dup_paragraph_id,
    dd.path         AS dup_path,
    d.article_id    AS dup_article_id,
    da.title        AS dup_article_title,
    d.text          AS dup_text,
    k.paragraph_id  AS kept_paragraph_id,
    kd.path         AS kept_path,
    k.article_id    AS kept_article_id,
    ka.title        AS kept_article_title,
    k.text          AS kept_text,
    k.cluster_size  AS kept_cluster_size
FROM paragraphs d
JOIN paragraphs k ON k.paragraph_id = d.dup_of
LEFT JOIN documents dd ON dd.doc_id = d.doc_id
LEFT JOIN documents kd ON kd.doc_id = k.doc_id
LEFT JOIN articles da ON da.article_id = d.article_id
LEFT JOIN articles ka ON ka.article_id = k.article_id
WHERE d.dup_status <> 'unique';
