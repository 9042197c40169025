create table coord.events (
  id          bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  kind        text not null check (kind ~ '^[a-z_]+\.[a-z_.]+$'),
  agent_id    text,
  session_id  text,
  subject     text,
  data        jsonb not null default '{}'::jsonb
);
comment on table coord.events is
  'Append-only log of every state change (kind like lock.acquired, task.completed). Never holds secrets: callers '
  'write identifiers and outcomes, not request bodies. Written only by coord.emit; read in id order by the event '
  'feed (coord.follow_events) and the audit query (coord.list_events).';
create index events_kind_idx on coord.events (kind, id);
create index events_subject_idx on coord.events (subject, id) where subject is not null;
-- The history of one lock grant, by its fencing token: the gateway asks whether a token was live when a commit was made
-- (coord.lock_tokens_live_at). A token names one grant, so a probe returns its few events (acquired, refreshed, the
-- end) however long the log grows; by key (events_subject_idx) it would read every grant a busy file ever had. Partial
-- on lock events: task events carry tokens from the same sequence but are never asked about here.
create index events_lock_token_idx on coord.events ((data ->> 'token')) where kind like 'lock.%';

-- The audit query's time range. occurred_at follows id closely (both grow with time), so a BRIN index finds a range
-- in a few pages and costs next to nothing per insert, unlike a btree on the hottest table.
create index events_occurred_idx on coord.events using brin (occurred_at);

alter table coord.events enable row level security;
