create table coord.memory_settings (
  key   text primary key,
  value jsonb not null
);
comment on table coord.memory_settings is
  'Tunables of the memory layers (working_budget_tokens, retention_days, recall_floor, vector_floor). Defaults are '
  'in supabase/seed.sql; functions fall back to built-in values when a key is missing.';

alter table coord.memory_settings enable row level security;
