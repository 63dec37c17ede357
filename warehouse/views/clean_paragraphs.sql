-- Paragraphs as the newspaper printed them, each repeated paragraph once.
CREATE OR REPLACE VIEW clean_paragraphs AS
SELECT p.paragraph_id, p.article_id, p.doc_id, p.seq, p.text, p.chars, p.cluster_size, p.quality_flags
FROM paragraphs p
JOIN documents d USING (doc_id)
WHERE p.dup_status = 'unique' AND d.status = 'loaded';
