-- Default policies and reference data. Applied after the migrations by `npm start`, the test suites and
-- `supabase db reset`; every statement is idempotent so it can run on every start.
--
-- The foundation has no reference data yet. Capabilities append theirs here (for example the verification
-- gateway's default routing policies), each block guarded by `on conflict do nothing`.
select 1;

-- Memory: tunables read by coord.recall, coord.working_add and coord.memory_retention (see docs/MEMORY.md).
insert into coord.memory_settings (key, value) values
  ('working_budget_tokens', '4000'),
  ('retention_days', '90'),
  ('recall_floor', '0.5'),
  ('vector_floor', '0.6')
on conflict (key) do nothing;
