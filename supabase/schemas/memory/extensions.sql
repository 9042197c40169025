-- Supabase keeps extensions in the schema `extensions`; plain Postgres and PGlite get it here. pg_trgm serves recall's
-- typo matching and working memory's near-duplicate merge.
create schema if not exists extensions;
create extension if not exists pg_trgm with schema extensions;
