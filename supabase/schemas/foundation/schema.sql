-- The private schema of Agent Coordinator. Conventions every file under supabase/schemas follows:
--   * tables and helpers live in the private schema `coord`; nothing is created in `public`;
--   * callable functions are `security definer`, `set search_path = ''`, fully qualified, and return jsonb
--     so that one call is one round trip and both drivers (postgres.js, PGlite) see the same shape;
--   * time is always the database's `now()`;
--   * RLS is enabled on every table; `anon` reads only what any agent may see;
--   * privileges are granted in one file, supabase/schemas/grants.sql, applied last.
create schema coord;
comment on schema coord is 'Agent Coordinator: private tables and the SQL functions the API calls. Not exposed to PostgREST.';
