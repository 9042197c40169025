create table coord.verification_policies (
  id          text primary key check (id ~ '^[a-z0-9_.-]{1,64}$'),
  description text not null check (length(description) between 1 and 500),
  patterns    text[] not null check (cardinality(patterns) between 1 and 100),
  min_tier    int not null check (min_tier between 0 and 4),
  is_floor    boolean not null default false,
  enabled     boolean not null default true,
  updated_at  timestamptz not null default now()
);
comment on table coord.verification_policies is
  'Routing policies: files matching any glob (picomatch semantics, dot files included) need at least min_tier. '
  'is_floor: trust may never route a change matching this policy below min_tier (tier-4 policies are floors too).';

alter table coord.verification_policies enable row level security;
