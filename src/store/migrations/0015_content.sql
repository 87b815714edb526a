-- Content for the promotion site: articles of four kinds with their editorial flow, cover images
-- in web sizes, and the full-text index over published articles.

-- An article in zh-CN (required) and en (optional), authored in Markdown; the sanitised HTML and
-- the plain text are derived at every save. search_text is the plain text of a published article
-- (title and body, both languages) and '' otherwise; search reads only it.
CREATE TABLE content_articles (
  id {{id}},
  slug TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('knowledge', 'news', 'product', 'technology')),
  region_code TEXT NOT NULL REFERENCES regions (code),
  state TEXT NOT NULL CHECK (state IN ('draft', 'in_review', 'published', 'archived')),
  title_zh TEXT NOT NULL,
  summary_zh TEXT NOT NULL DEFAULT '',
  body_md_zh TEXT NOT NULL,
  body_html_zh TEXT NOT NULL,
  title_en TEXT NOT NULL DEFAULT '',
  summary_en TEXT NOT NULL DEFAULT '',
  body_md_en TEXT NOT NULL DEFAULT '',
  body_html_en TEXT NOT NULL DEFAULT '',
  tags_json TEXT NOT NULL DEFAULT '[]',
  cover_sha256 TEXT NOT NULL DEFAULT '',
  search_text TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL,
  reviewer TEXT NOT NULL DEFAULT '',
  review_comment TEXT NOT NULL DEFAULT '',
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  submitted_at_ms BIGINT,
  published_at_ms BIGINT,
  archived_at_ms BIGINT
);
CREATE INDEX content_articles_listing ON content_articles (state, kind, region_code, published_at_ms);

-- Tags, one row each, for filtering.
CREATE TABLE content_article_tags (
  article_id BIGINT NOT NULL REFERENCES content_articles (id),
  tag TEXT NOT NULL,
  PRIMARY KEY (article_id, tag)
);
CREATE INDEX content_article_tags_by_tag ON content_article_tags (tag);

-- Cover images as stored after resizing: one row per web size, keyed by the SHA-256 of the
-- uploaded file, so a URL names its bytes and can be cached for ever.
CREATE TABLE content_media (
  sha256 TEXT NOT NULL,
  width_px INTEGER NOT NULL,
  height_px INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  data_base64 TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  uploaded_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (sha256, width_px)
);

-- Full-text search over published articles. SQLite: an FTS5 index with the trigram tokenizer
-- (any three characters match, which suits Chinese without a word segmenter), kept by the
-- service as articles are published and archived. PostgreSQL: pg_trgm's GIN index serving
-- ILIKE on search_text. The extension goes to public so that every schema's index can name it.
/*sqlite*/ CREATE VIRTUAL TABLE content_search USING fts5(text, tokenize = 'trigram');
/*postgresql*/ CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
/*postgresql*/ CREATE INDEX content_articles_search ON content_articles USING gin (search_text public.gin_trgm_ops);
