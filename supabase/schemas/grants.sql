-- Every privilege in the coord schema, in one place. Applied last when the schema files build a database, and
-- appended to every migration `npm run db:diff` writes, so it holds only grants and revokes (idempotent).
--
-- The model: the app calls the functions, as the owner (plain Postgres, PGlite) or as service_role (Supabase).
-- Agents reading directly with Supabase's anon key (the hybrid read pattern) see a few columns of three tables, rows
-- filtered by the policies in those tables' files. Everything else — every other table, every write, every
-- function — is closed to anon and authenticated.

-- Schemas.
revoke all on schema coord from public;
grant usage on schema coord to service_role, anon, authenticated;
grant usage on schema extensions to service_role, anon, authenticated;

-- service_role: everything, for objects that exist and for those created later.
alter default privileges in schema coord grant all on tables to service_role;
alter default privileges in schema coord grant all on sequences to service_role;
alter default privileges in schema coord grant execute on functions to service_role;
grant all on all tables in schema coord to service_role;
grant all on all sequences in schema coord to service_role;
grant execute on all functions in schema coord to service_role;

-- anon and authenticated: the columns any agent may read; the policies next to each table choose the rows.
-- Presence (policy agents_presence_read).
grant select (agent_id, agent_type, last_seen_at) on coord.agents to anon, authenticated;
-- Active locks (policy locks_active_read); session ids and tokens stay private.
grant select (repo, key, agent_id, reason, acquired_at, expires_at) on coord.locks to anon, authenticated;
-- Ready-task summaries (policy tasks_pending_read); inputs and results are not.
grant select (id, task_type, task_description, priority, status, submitted_by, created_at, deadline)
  on coord.tasks to anon, authenticated;

-- Functions are executable by PUBLIC by default, and a per-schema default privilege cannot take that away (it can
-- only add to the global default). So EXECUTE on every function of the schema is revoked from PUBLIC and the API
-- roles here, after every function exists, and again at the end of every generated migration, so a new function is
-- never left open; test/rls.test.ts calls them as `anon` to prove it.
revoke execute on all functions in schema coord from public, anon, authenticated;
