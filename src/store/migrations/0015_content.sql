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

-- The low-carbon product and technology catalogue, the regions' priority procurement list.
-- Certification columns are '' for uncertified entries; footprint_grams is NULL when no footprint
-- is declared (then unit and source are '').
CREATE TABLE content_catalogue (
  id {{id}},
  kind TEXT NOT NULL CHECK (kind IN ('product', 'technology')),
  name_zh TEXT NOT NULL,
  name_en TEXT NOT NULL DEFAULT '',
  maker TEXT NOT NULL,
  category TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions (code),
  description_zh TEXT NOT NULL DEFAULT '',
  cert_body TEXT NOT NULL DEFAULT '',
  cert_number TEXT NOT NULL DEFAULT '',
  cert_valid_until TEXT NOT NULL DEFAULT '',
  footprint_grams BIGINT,
  footprint_unit TEXT NOT NULL DEFAULT '',
  footprint_source TEXT NOT NULL DEFAULT '',
  article_id BIGINT REFERENCES content_articles (id),
  state TEXT NOT NULL CHECK (state IN ('listed', 'withdrawn')),
  withdraw_reason TEXT NOT NULL DEFAULT '',
  listed_by TEXT NOT NULL,
  listed_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX content_catalogue_filter ON content_catalogue (state, kind, category, region_code);
-- A certificate is listed once.
CREATE UNIQUE INDEX content_catalogue_certificate ON content_catalogue (cert_body, cert_number) WHERE cert_number <> '';

-- Public ideas (集思广益): topics the province opens, ideas anyone posts on them (moderated before
-- they show), supports by signed-in users (one each), and the proposals or policies an adopted
-- idea led to. `contact` is personal data: only moderators read it, the audit chain holds its hash.
CREATE TABLE content_idea_topics (
  id {{id}},
  title_zh TEXT NOT NULL,
  description_zh TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
  closes_at_ms BIGINT,
  opened_by TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  closed_at_ms BIGINT
);

CREATE TABLE content_ideas (
  id {{id}},
  topic_id BIGINT NOT NULL REFERENCES content_idea_topics (id),
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  display_name TEXT NOT NULL,
  contact TEXT NOT NULL,
  author_user_id BIGINT,
  client_address TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'visible', 'rejected', 'adopted')),
  moderation_reason TEXT NOT NULL DEFAULT '',
  moderated_by TEXT NOT NULL DEFAULT '',
  moderated_at_ms BIGINT,
  adoption_note TEXT NOT NULL DEFAULT '',
  adopted_by TEXT NOT NULL DEFAULT '',
  adopted_at_ms BIGINT,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX content_ideas_by_topic ON content_ideas (topic_id, state);
CREATE INDEX content_ideas_by_address ON content_ideas (client_address, created_at_ms);

CREATE TABLE content_idea_supports (
  idea_id BIGINT NOT NULL REFERENCES content_ideas (id),
  user_id BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (idea_id, user_id)
);

-- What an adopted idea led to: a methodology proposal (by id) or a policy (title and link).
CREATE TABLE content_idea_links (
  id {{id}},
  idea_id BIGINT NOT NULL REFERENCES content_ideas (id),
  kind TEXT NOT NULL CHECK (kind IN ('methodology_proposal', 'policy')),
  proposal_id BIGINT,
  title TEXT NOT NULL DEFAULT '',
  url TEXT NOT NULL DEFAULT ''
);

-- Full-text search over published articles. SQLite: an FTS5 index with the trigram tokenizer
-- (any three characters match, which suits Chinese without a word segmenter), kept by the
-- service as articles are published and archived. PostgreSQL: pg_trgm's GIN index serving
-- ILIKE on search_text. The extension goes to public so that every schema's index can name it.
/*sqlite*/ CREATE VIRTUAL TABLE content_search USING fts5(text, tokenize = 'trigram');
/*postgresql*/ CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
/*postgresql*/ CREATE INDEX content_articles_search ON content_articles USING gin (search_text public.gin_trgm_ops);
