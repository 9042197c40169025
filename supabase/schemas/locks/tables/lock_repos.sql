create table coord.lock_repos (
  repo       text primary key
             check (length(repo) <= 200 and repo ~ '^[A-Za-z0-9_@-][A-Za-z0-9._@-]*(/[A-Za-z0-9_@-][A-Za-z0-9._@-]*)*$'),
  created_at timestamptz not null default now()
);
comment on table coord.lock_repos is
  'Repository namespaces that have held a lock. check/release/verify on a repo not listed here is refused as a '
  'likely typo; the first acquire in a repo creates it. ''default'' always exists.';
-- Its row 'default' is reference data, in supabase/seed.sql (coord.lock_repo_known also accepts it without the row).

alter table coord.lock_repos enable row level security;
