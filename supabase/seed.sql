-- Default policies and reference data. Applied after the migrations by `npm start`, the test suites and
-- `supabase db reset`; every statement is idempotent so it can run on every start.
--
-- The foundation has no reference data yet. Capabilities append theirs here (for example the verification
-- gateway's default routing policies), each block guarded by `on conflict do nothing`.
select 1;
