create function coord.lock_tokens_live_at(p_claims jsonb, p_skew_seconds int)
returns table (i int, status text, lock_key text, holder text, acquired_at timestamptz, ended text,
               ended_at timestamptz, next_holder text, next_token bigint, next_at timestamptz)
language plpgsql
stable
set search_path = ''
-- Its statements are a few index probes per claim, but the planner's guesses (a token matching thousands of events, a
-- hundred claims) cost them past jit_above_cost: compiling them took 200+ ms for a 0.3 ms query on a large log.
set jit = off
as $$
declare
  v_skew interval := make_interval(secs => greatest(coalesce(p_skew_seconds, 0), 0));
begin
  -- A token names one grant (tokens come from one sequence and a refresh keeps its token), so its history is a few
  -- events found through events_lock_token_idx: lock.acquired starts it; any later lock event naming the token other
  -- than a refresh ends it (released, expired, force_released, or what liveness records). An end event's
  -- data.expires_at, when earlier than the event, is when the grant really stopped: an expired lock is swept lazily.
  -- A grant with no end event is live until its row's expires_at (heartbeats move that; the events do not).
  --
  -- Commit times come from the committer's clock, at one-second resolution (git): a commit stamped T was made in
  -- [T, T + 1 s) by that clock, and the clocks may differ by up to p_skew_seconds. A token counts as held when that
  -- window, widened by the tolerance, overlaps the grant: leniency towards clock error, not towards the lock's loss
  -- (a commit made more than the tolerance after the loss is caught).
  return query
  with c as (
    select x.i, x.repo, x.path, x.token, x.agent, x.at
      from jsonb_to_recordset(p_claims) as x(i int, repo text, path text, token bigint, agent text, at timestamptz)
  ),
  g as (
    select c.*, a.data ->> 'repo' as g_repo, a.subject as g_key, a.agent_id as g_agent, a.occurred_at as g_at,
           e.kind as e_kind, e.id as e_id, l.l_expires,
           case
             when e.id is not null
               then least(e.occurred_at, coalesce((e.data ->> 'expires_at')::timestamptz, e.occurred_at))
             when l.l_expires is null then '-infinity'::timestamptz  -- no end recorded and no row: ended, when unknown
             when l.l_expires <= now() then l.l_expires              -- expired, not swept yet
           end as g_end
      from c
      -- The token's few events, through the token index alone (no "order by id limit 1": the planner would walk the
      -- primary key instead, guessing a token matches many rows); then its start and end by primary key.
      left join lateral (
        select min(ev.id) filter (where ev.kind = 'lock.acquired') as a_id,
               min(ev.id) filter (where ev.kind not in ('lock.acquired', 'lock.refreshed')) as e_id
          from coord.events ev
         where ev.kind like 'lock.%' and ev.data ->> 'token' = c.token::text) h on true
      left join coord.events a on a.id = h.a_id
      left join coord.events e on e.id = h.e_id
      left join lateral (
        select lk.expires_at as l_expires
          from coord.locks lk
         where lk.repo = a.data ->> 'repo' collate "C" and lk.key = a.subject collate "C" and lk.token = c.token) l
        on a.id is not null
  ),
  s as (
    select g.*,
           case
             when g.g_key is null then 'unknown_token'
             when g.g_repo is distinct from g.repo then 'other_repo'
             when not (g.g_key = g.path or (right(g.g_key, 1) = '/' and starts_with(g.path, g.g_key))) then 'other_path'
             when g.g_agent is distinct from g.agent then 'other_agent'
             when g.at - v_skew > now() then 'future'
             when g.g_at >= g.at + interval '1 second' + v_skew then 'not_yet_held'
             when g.g_end <= g.at - v_skew then 'lock_lost'
             else 'held'
           end as st
      from g
  )
  select s.i, s.st, s.g_key, s.g_agent, s.g_at,
         case
           when s.g_end is null then null
           when s.e_kind is not null then substr(s.e_kind, 6)
           when s.g_end = '-infinity' then 'unknown'
           else 'expired'
         end,
         case when s.g_end = '-infinity' then null else s.g_end end,
         n.agent_id, n.token, n.occurred_at
    from s
    left join lateral (
      -- Who took the path next: the first grant on it (or a scope above it) after the loss, one subject at a time so
      -- each probe reads events_subject_idx in id order from the loss on.
      select nx.agent_id, nx.token, nx.occurred_at
        from unnest(array[s.path] || coord.lock_ancestors(s.path)) as k(key)
       cross join lateral (
         select ev.id, ev.agent_id, (ev.data ->> 'token')::bigint as token, ev.occurred_at
           from coord.events ev
          where ev.subject = k.key and ev.id > s.e_id and ev.kind = 'lock.acquired'
            and ev.data ->> 'repo' = s.g_repo and ev.data ->> 'token' <> s.token::text
          order by ev.id
          limit 1) nx
       where s.st = 'lock_lost' and s.e_id is not null
       order by nx.id
       limit 1) n on true
   order by s.i;
end;
$$;
comment on function coord.lock_tokens_live_at(jsonb, int) is
  'Fencing after the fact, from the lock history in coord.events: for each claim {i, repo, path, token, agent, at} '
  '(a commit made at time at, by the committer''s clock, under token for path), whether the token was a grant to that '
  'agent in that repo on the path or a scope covering it, live at that time within p_skew_seconds of clock skew. '
  'status: held | lock_lost (ended before) | not_yet_held (acquired after) | future (at is ahead of the database''s '
  'clock) | unknown_token | other_repo | other_path | other_agent; with the grant''s key, holder, start and end, and '
  'for a lost lock who took the path next. Cost per claim: a few probes of events_lock_token_idx and the locks key.';
