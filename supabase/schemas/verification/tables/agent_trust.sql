create table coord.agent_trust (
  agent_id    text primary key,
  passes      double precision not null default 0,
  failures    double precision not null default 0,
  regressions double precision not null default 0,
  reverts     double precision not null default 0,
  decayed_at  timestamptz not null default now()
);
comment on table coord.agent_trust is
  'Verification history per agent as exponentially decayed counts (half-life 30 days): passes, failures, '
  'regressions (a failure on a branch whose previous changeset by the agent was verified) and reverts.';

alter table coord.agent_trust enable row level security;
