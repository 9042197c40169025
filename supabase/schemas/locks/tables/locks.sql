-- Locks: file, directory and logical-key locks with fencing tokens and session leases.
--
-- Concurrency design (docs/LOCKS.md explains it at length):
--   * Keys are hierarchical: a key ending in '/' is a scope covering every key that starts with it. Two keys
--     conflict when they are equal or one is a scope containing the other.
--   * Every transaction that changes lock rows first takes transaction-level advisory locks, in ascending id order:
--     EXCLUSIVE on hash(repo, key) for each key it touches and SHARED on hash(repo, ancestor) for each ancestor
--     scope of those keys (hierarchical intention locks). So two transactions whose keys conflict are serialised,
--     transactions on disjoint subtrees run in parallel, and the single global order rules out deadlocks.
--   * A row is only ever written by a transaction holding that cover, so row-lock waits between writers cannot
--     form a cycle either. The global sweep never waits (SKIP LOCKED) and only deletes expired rows.
--   * Decisions about expiry use clock_timestamp() read after the advisory locks are held, so a decision made
--     later (in the serial order of conflicting transactions) never uses an earlier time.

create table coord.locks (
  repo        text collate "C" not null,
  key         text collate "C" not null check (coord.lock_key_valid(key)),
  agent_id    text not null,
  session_id  text,
  reason      text check (length(reason) <= 500),
  token       bigint not null,
  ttl_seconds int not null check (ttl_seconds between 60 and 28800),
  acquired_at timestamptz not null,
  renewed_at  timestamptz not null,
  expires_at  timestamptz not null,
  primary key (repo, key)
);
comment on table coord.locks is
  'Locks held now (and expired ones not yet swept: a row with expires_at <= now() blocks nobody). Keyed by '
  '(repo, key); keys use the C collation so a scope''s contents are one index range. token is the fencing token '
  'of the grant; a refresh keeps it. session_id ties the lock to a session lease (renewed by heartbeats, released '
  'when the session ends); null means the TTL alone bounds it.';
create index locks_session_idx on coord.locks (agent_id, session_id);
create index locks_expires_idx on coord.locks (expires_at);

alter table coord.locks enable row level security;

-- Active locks are what any agent may see (the hybrid read pattern); session ids and tokens stay private: anon
-- gets only the columns grants.sql names.
create policy locks_active_read on coord.locks for select to anon, authenticated using (expires_at > now());
