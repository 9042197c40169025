-- 0005 verification gateway: routing policies, changesets, per-tier results (the evidence), agent trust, webhook
-- deliveries, and the bridge from the work queue (tiers 2 and 3 run as coord.tasks of type verify:*).
--
-- Tiers: 0 STATIC (inline), 1 UNIT (GitHub Actions), 2 INTEGRATION (sandbox or runner), 3 SYSTEM (runner),
-- 4 MANUAL (admin approval). A change routed to tier T requires a passing result for every tier 0..T, each tied to
-- the changeset's commit sha; only then is the changeset `verified`.

-- ---------------------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------------------

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

create table coord.changesets (
  id              uuid primary key default gen_random_uuid(),
  source          text not null check (source in ('agent', 'github')),
  repo            text not null check (repo ~ '^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$'),
  branch          text check (length(branch) between 1 and 255),
  commit_sha      text not null check (commit_sha ~ '^[0-9a-f]{40}$'),
  agent_id        text not null,
  session_id      text,
  task_id         text,
  lock_tokens     jsonb not null default '[]'::jsonb,
  file_count      int not null check (file_count >= 0),
  files           jsonb not null default '[]'::jsonb,
  base_tier       int not null check (base_tier between 0 and 4),
  floor_tier      int not null check (floor_tier between 0 and 4),
  tier            int not null check (tier between 0 and 4),
  required_tiers  int[] not null,
  decision        jsonb not null,
  state           text not null default 'pending' check (state in ('pending', 'verified', 'failed', 'rejected')),
  installation_id bigint,
  pr_number       int,
  check_run_id    bigint,
  check_claimed_at timestamptz,
  version         int not null default 1,
  check_synced_version int not null default 0,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  unique (repo, commit_sha)
);
comment on table coord.changesets is
  'One change to verify, per repository commit: who submitted it, its files, the routing decision (matched policies, '
  'trust arithmetic), the required tiers and the resulting state. version counts state changes so the GitHub check '
  'run can be brought up to date (check_synced_version).';
create index changesets_agent_idx on coord.changesets (agent_id, created_at desc);
create index changesets_unsynced_idx on coord.changesets (id) where check_synced_version < version;

create table coord.verification_results (
  id           uuid primary key default gen_random_uuid(),
  changeset_id uuid not null references coord.changesets (id) on delete cascade,
  tier         int not null check (tier between 0 and 4),
  commit_sha   text check (commit_sha ~ '^[0-9a-f]{40}$'),
  executor     text not null check (executor in ('inline', 'github_actions', 'queue', 'e2b', 'approval', 'unconfigured')),
  status       text not null check (status in ('pending', 'running', 'awaiting_approval', 'passed', 'failed', 'rejected')),
  external_id  text,
  summary      text check (length(summary) <= 2000),
  details      jsonb not null default '{}'::jsonb,
  reported_by  text,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  completed_at timestamptz,
  unique (changeset_id, tier)
);
comment on table coord.verification_results is
  'The evidence: one row per required tier of a changeset. commit_sha is the commit the executor reports it verified; '
  'a pass counts only when it equals the changeset''s sha. Tier-4 rows are the approval queue.';
create index verification_results_external_idx on coord.verification_results (executor, external_id) where external_id is not null;
create index verification_results_approval_idx on coord.verification_results (created_at) where status = 'awaiting_approval';

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

create table coord.webhook_deliveries (
  source       text not null check (source in ('github', 'callback')),
  delivery_id  text not null check (length(delivery_id) between 1 and 200),
  event        text not null,
  action       text,
  state        text not null default 'received' check (state in ('received', 'processed', 'failed')),
  attempts     int not null default 1,
  error        text,
  received_at  timestamptz not null default now(),
  processed_at timestamptz,
  primary key (source, delivery_id)
);
comment on table coord.webhook_deliveries is
  'Every verified webhook delivery (GitHub X-GitHub-Delivery, callback webhook-id) with its processing state: a '
  'duplicate of a processed delivery is a no-op, a redelivery of a failed one is processed again. Payloads are not '
  'kept: a redelivery carries its payload again, and payloads may name things that do not belong in a log.';

-- ---------------------------------------------------------------------------------------------------------------
-- Internal helpers
-- ---------------------------------------------------------------------------------------------------------------

create function coord.verification_decay(t coord.agent_trust)
returns coord.agent_trust
language plpgsql
stable
set search_path = ''
as $$
declare
  f double precision := power(0.5, extract(epoch from (now() - t.decayed_at)) / (30 * 86400.0));
begin
  t.passes := t.passes * f;
  t.failures := t.failures * f;
  t.regressions := t.regressions * f;
  t.reverts := t.reverts * f;
  t.decayed_at := now();
  return t;
end;
$$;
comment on function coord.verification_decay(coord.agent_trust) is 'Internal: the trust counts decayed to now (half-life 30 days).';

create function coord.verification_trust_of(p_agent_id text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  t coord.agent_trust;
  v_evidence double precision;
  v_score double precision;
  v_adjust int := 0;
begin
  select * into t from coord.agent_trust where agent_id = p_agent_id;
  if not found then
    t := row(p_agent_id, 0, 0, 0, 0, now())::coord.agent_trust;
  end if;
  t := coord.verification_decay(t);
  v_evidence := t.passes + t.failures + t.regressions + t.reverts;
  -- Laplace-smoothed pass rate; regressions weigh double and reverts triple: they escaped verification once.
  v_score := (t.passes + 1) / (t.passes + t.failures + 2 * t.regressions + 3 * t.reverts + 2);
  if v_evidence >= 5 and v_score >= 0.9 then
    v_adjust := -1;
  elsif v_evidence >= 2 and v_score < 0.5 then
    v_adjust := 1;
  end if;
  return jsonb_build_object(
    'agent_id', p_agent_id,
    'passes', round(t.passes::numeric, 3), 'failures', round(t.failures::numeric, 3),
    'regressions', round(t.regressions::numeric, 3), 'reverts', round(t.reverts::numeric, 3),
    'evidence', round(v_evidence::numeric, 3), 'score', round(v_score::numeric, 4), 'adjustment', v_adjust,
    'formula', 'score = (passes+1)/(passes+failures+2*regressions+3*reverts+2), counts halved every 30 days; '
               'adjust -1 when evidence>=5 and score>=0.9, +1 when evidence>=2 and score<0.5');
end;
$$;
comment on function coord.verification_trust_of(text) is
  'Internal: an agent''s decayed trust score and the tier adjustment it earns (-1, 0 or +1), with the formula.';

create function coord.verification_trust_record(p_agent_id text, p_kind text)
returns void
language plpgsql
set search_path = ''
as $$
declare
  t coord.agent_trust;
begin
  insert into coord.agent_trust (agent_id) values (p_agent_id) on conflict (agent_id) do nothing;
  select * into t from coord.agent_trust where agent_id = p_agent_id for update;
  t := coord.verification_decay(t);
  update coord.agent_trust set
    passes      = t.passes + case when p_kind = 'pass' then 1 else 0 end,
    failures    = t.failures + case when p_kind = 'failure' then 1 else 0 end,
    regressions = t.regressions + case when p_kind = 'regression' then 1 else 0 end,
    reverts     = t.reverts + case when p_kind = 'revert' then 1 else 0 end,
    decayed_at  = now()
  where agent_id = p_agent_id;
end;
$$;
comment on function coord.verification_trust_record(text, text) is 'Internal: adds one pass, failure, regression or revert to an agent''s decayed history.';

create function coord.verification_final_tier(p_base int, p_floor int, p_adjustment int)
returns int
language sql
immutable
set search_path = ''
as $$ select least(4, greatest(p_base + p_adjustment, p_base - 1, p_floor, 0)) $$;
comment on function coord.verification_final_tier(int, int, int) is
  'Internal: the tier after trust: up freely, down by at most one, never under the floor of the matched policies.';

create function coord.verification_view(p_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', c.id, 'source', c.source, 'repo', c.repo, 'branch', c.branch, 'commit_sha', c.commit_sha,
    'agent_id', c.agent_id, 'task_id', c.task_id, 'state', c.state, 'tier', c.tier, 'base_tier', c.base_tier,
    'floor_tier', c.floor_tier, 'required_tiers', to_jsonb(c.required_tiers), 'file_count', c.file_count,
    'decision', c.decision, 'check_run_id', c.check_run_id, 'pr_number', c.pr_number,
    'installation_id', c.installation_id, 'version', c.version,
    'created_at', c.created_at, 'updated_at', c.updated_at,
    'results', coalesce((
      select jsonb_agg(jsonb_build_object(
        'id', r.id, 'tier', r.tier, 'executor', r.executor, 'status', r.status, 'commit_sha', r.commit_sha,
        'external_id', r.external_id, 'summary', r.summary, 'details', r.details, 'reported_by', r.reported_by,
        'updated_at', r.updated_at) order by r.tier)
      from coord.verification_results r where r.changeset_id = c.id), '[]'::jsonb))
  from coord.changesets c where c.id = p_id
$$;
comment on function coord.verification_view(uuid) is 'Internal: a changeset with its decision and per-tier results, as the API shows it.';

-- Recomputes a changeset's state from its results. The evidence rule lives here and only here.
create function coord.verification_refresh(p_id uuid)
returns text
language plpgsql
set search_path = ''
as $$
declare
  c coord.changesets;
  v_state text;
begin
  select * into c from coord.changesets where id = p_id for update;
  select case
    when bool_or(r.status = 'rejected') then 'rejected'
    when bool_or(r.status = 'failed') then 'failed'
    when count(*) = cardinality(c.required_tiers)
         and bool_and(r.status = 'passed' and r.commit_sha = c.commit_sha) then 'verified'
    else 'pending' end
    into v_state
  from coord.verification_results r
  where r.changeset_id = p_id and r.tier = any (c.required_tiers);
  if v_state is distinct from c.state then
    update coord.changesets set state = v_state, version = version + 1, updated_at = now() where id = p_id;
    perform coord.emit('verification.' || v_state, c.agent_id, c.session_id, p_id::text,
                       jsonb_build_object('repo', c.repo, 'commit_sha', c.commit_sha, 'tier', c.tier));
    if v_state = 'verified' then
      perform coord.verification_trust_record(c.agent_id, 'pass');
    elsif v_state = 'failed' then
      -- A failure on a branch whose previous changeset by this agent was verified is a regression.
      perform coord.verification_trust_record(c.agent_id, case when exists (
        select 1 from coord.changesets p
         where p.agent_id = c.agent_id and p.repo = c.repo and p.branch is not distinct from c.branch
           and p.id <> c.id and p.created_at < c.created_at and p.state = 'verified'
           and p.created_at = (select max(q.created_at) from coord.changesets q
                                where q.agent_id = c.agent_id and q.repo = c.repo and q.id <> c.id
                                  and q.branch is not distinct from c.branch and q.created_at < c.created_at))
        then 'regression' else 'failure' end);
    end if;
  else
    update coord.changesets set version = version + 1, updated_at = now() where id = p_id;
  end if;
  return v_state;
end;
$$;
comment on function coord.verification_refresh(uuid) is
  'Internal: derives a changeset''s state from its results (verified only when every required tier passed on the '
  'changeset''s own commit), records trust on the transition, bumps version so the check run is re-synced.';

-- ---------------------------------------------------------------------------------------------------------------
-- API functions
-- ---------------------------------------------------------------------------------------------------------------

create function coord.verification_policies()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'version', coalesce(md5(string_agg(p.id || ':' || p.updated_at::text || ':' || p.enabled::text, ',' order by p.id)), 'empty'),
    'policies', coalesce(jsonb_agg(jsonb_build_object(
      'id', p.id, 'description', p.description, 'patterns', to_jsonb(p.patterns), 'min_tier', p.min_tier,
      'is_floor', p.is_floor) order by p.id) filter (where p.enabled), '[]'::jsonb))
  from coord.verification_policies p
$$;
comment on function coord.verification_policies() is
  'The enabled routing policies and a version string that changes whenever any policy does (the app caches compiled globs by it).';

create function coord.verification_submit(p jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_trust jsonb;
  v_base int := (p #>> '{routing,base_tier}')::int;
  v_floor int := (p #>> '{routing,floor_tier}')::int;
  v_tier int;
  v_required int[];
  v_task jsonb;
  v_rid uuid;
  v_exec text;
  v_reverted coord.changesets;
  v_lost jsonb;
  t int;
begin
  -- Fencing: a change made under locks names their tokens. A token that no longer holds its lock (expired,
  -- released, taken over since) means the change may have raced another agent's: refuse it, record nothing.
  -- Tokens name a lock repo (default: the change's repo when locks were taken there, else 'default').
  select jsonb_agg(lt) into v_lost
    from jsonb_array_elements(coalesce(p->'lock_tokens', '[]'::jsonb)) as lt
   where not case
           when lt ? 'path' then coord.lock_token_valid(
             coalesce(lt->>'repo', case when coord.lock_repo_known(p->>'repo') then p->>'repo' else 'default' end),
             p->>'agent_id', lt->>'path', (lt->>'token')::bigint)
           else exists (select 1 from coord.locks l
                         where l.agent_id = p->>'agent_id' and l.token = (lt->>'token')::bigint and l.expires_at > now())
         end;
  if v_lost is not null then
    return jsonb_build_object('ok', false, 'code', 'lock_lost', 'lost', v_lost);
  end if;

  -- Trust: raise by one, or lower by at most one, never below the floor of the matched policies.
  v_trust := coord.verification_trust_of(p->>'agent_id');
  v_tier := coord.verification_final_tier(v_base, v_floor, (v_trust->>'adjustment')::int);
  v_required := array(select generate_series(0, v_tier));

  insert into coord.changesets (source, repo, branch, commit_sha, agent_id, session_id, task_id, lock_tokens,
                                file_count, files, base_tier, floor_tier, tier, required_tiers, decision,
                                installation_id, pr_number)
  values (p->>'source', p->>'repo', p->>'branch', p->>'commit_sha', p->>'agent_id', p->>'session_id', p->>'task_id',
          coalesce(p->'lock_tokens', '[]'::jsonb), (p->>'file_count')::int, coalesce(p->'files', '[]'::jsonb),
          v_base, v_floor, v_tier, v_required,
          jsonb_build_object(
            'policy_version', p #>> '{routing,policy_version}',
            'matches', p #> '{routing,matches}',
            'unmatched', p #> '{routing,unmatched}',
            'trust', v_trust,
            'arithmetic', format('base %s (highest policy minimum), trust adjustment %s, floor %s → tier %s '
                                 '(= min(4, max(base + adjustment, base - 1, floor)))',
                                 v_base, v_trust->>'adjustment', v_floor, v_tier)),
          nullif(p->>'installation_id', '')::bigint, nullif(p->>'pr_number', '')::int)
  on conflict (repo, commit_sha) do nothing
  returning id into v_id;

  if v_id is null then
    -- Same commit submitted again (an agent and the push webhook, or a retry): one changeset per commit.
    select id into v_id from coord.changesets where repo = p->>'repo' and commit_sha = p->>'commit_sha';
    return coord.verification_view(v_id) || jsonb_build_object('existing', true);
  end if;

  foreach t in array v_required loop
    if t = 0 then
      insert into coord.verification_results (changeset_id, tier, commit_sha, executor, status, summary, details, reported_by, completed_at)
      values (v_id, 0, p->>'commit_sha', 'inline',
              case when (p #>> '{static,passed}')::boolean then 'passed' else 'failed' end,
              p #>> '{static,summary}', coalesce(p #> '{static,details}', '{}'::jsonb), 'gateway', now());
    elsif t in (1, 2, 3) then
      -- Tier 1 runs on GitHub Actions when GitHub is configured, tier 2 in E2B when E2B is; otherwise on the queue.
      v_exec := case t when 1 then p #>> '{executors,unit}' when 2 then p #>> '{executors,integration}' else 'queue' end;
      insert into coord.verification_results (changeset_id, tier, executor, status)
      values (v_id, t, v_exec, 'pending')
      returning id into v_rid;
      if v_exec = 'queue' then
        if to_regprocedure('coord.submit_tasks(text,text,jsonb)') is null then
          update coord.verification_results set executor = 'unconfigured',
                 summary = 'the work queue is not installed: no runner can take this tier' where id = v_rid;
        else
          perform coord.touch_agent('verification-gateway', 'gateway', null);
          execute 'select coord.submit_tasks($1, $2, $3)' into v_task using 'verification-gateway', null::text,
            jsonb_build_array(jsonb_build_object(
              'task_type', case t when 1 then 'verify:unit' when 2 then 'verify:integration' else 'verify:system' end,
              'task_description', format('Verify %s@%s (tier %s) and report {"passed", "commit_sha", "summary"}',
                                         p->>'repo', left(p->>'commit_sha', 12), t),
              'input_data', jsonb_build_object('changeset_id', v_id, 'result_id', v_rid, 'tier', t,
                                               'repo', p->>'repo', 'branch', p->>'branch', 'commit_sha', p->>'commit_sha'),
              'priority', 10 - t,
              'idempotency_key', 'verify:' || v_rid::text));
          if v_task ? 'error' then
            update coord.verification_results set executor = 'unconfigured',
                   summary = left('the work queue refused the job: ' || coalesce(v_task #>> '{error,message}', 'no message'), 2000)
             where id = v_rid;
          else
            update coord.verification_results set external_id = v_task #>> '{tasks,0,id}' where id = v_rid;
          end if;
        end if;
      end if;
    else
      insert into coord.verification_results (changeset_id, tier, executor, status, summary)
      values (v_id, 4, 'approval', 'awaiting_approval', 'waiting for an admin (or GitHub check-run Approve) to approve or reject');
    end if;
  end loop;

  -- A revert penalises the agent whose change was reverted.
  if p->>'reverts_commit' is not null then
    select * into v_reverted from coord.changesets where repo = p->>'repo' and commit_sha = p->>'reverts_commit';
    if found then
      perform coord.verification_trust_record(v_reverted.agent_id, 'revert');
    end if;
  end if;

  perform coord.emit('verification.submitted', p->>'agent_id', p->>'session_id', v_id::text,
                     jsonb_build_object('repo', p->>'repo', 'commit_sha', p->>'commit_sha', 'tier', v_tier,
                                        'file_count', (p->>'file_count')::int));
  perform coord.verification_refresh(v_id);
  return coord.verification_view(v_id) || jsonb_build_object('existing', false);
end;
$$;
comment on function coord.verification_submit(jsonb) is
  'Records a changeset with the routing the app computed (base tier, floor, matched policies), applies the submitter''s '
  'trust, creates one result row per required tier (tier 0 from the inline checks, tiers 2/3 as verify:* tasks on '
  'the work queue, tier 4 awaiting approval) and answers the changeset. A commit already recorded answers its changeset.';

create function coord.verification_started(p_result_id uuid, p_external_id text, p_error text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  r coord.verification_results;
begin
  update coord.verification_results
     set status = case when p_error is null then 'running' else 'pending' end,
         external_id = coalesce(p_external_id, external_id),
         summary = coalesce(p_error, summary),
         updated_at = now()
   where id = p_result_id and status in ('pending', 'running')
  returning * into r;
  if found then
    perform coord.emit('verification.dispatched', null, null, r.changeset_id::text,
                       jsonb_build_object('tier', r.tier, 'executor', r.executor, 'external_id', r.external_id, 'ok', p_error is null));
    update coord.changesets set version = version + 1, updated_at = now() where id = r.changeset_id;
  end if;
  return jsonb_build_object('updated', found);
end;
$$;
comment on function coord.verification_started(uuid, text, text) is
  'Marks a tier as started by its executor (workflow dispatched, sandbox created) with the executor''s id, or keeps it '
  'pending with the dispatch error as its summary.';

create function coord.verification_record(p_result_id uuid, p_passed boolean, p_commit_sha text, p_summary text,
                                          p_details jsonb, p_reported_by text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  r coord.verification_results;
  c coord.changesets;
  v_status text;
  v_summary text := left(p_summary, 2000);
begin
  select * into r from coord.verification_results where id = p_result_id for update;
  if not found then
    return jsonb_build_object('ok', false, 'code', 'result_not_found');
  end if;
  if r.tier = 4 then
    -- Nothing but a review completes a manual tier.
    return jsonb_build_object('ok', false, 'code', 'manual_tier');
  end if;
  if r.status in ('passed', 'failed') then
    return jsonb_build_object('ok', true, 'duplicate', true, 'changeset', coord.verification_view(r.changeset_id));
  end if;
  select * into c from coord.changesets where id = r.changeset_id;
  v_status := case when p_passed and p_commit_sha = c.commit_sha then 'passed' else 'failed' end;
  if p_passed and p_commit_sha is distinct from c.commit_sha then
    v_summary := format('reported a pass for commit %s, not the changeset''s %s: not evidence', coalesce(p_commit_sha, '(none)'), c.commit_sha);
  end if;
  update coord.verification_results
     set status = v_status, commit_sha = p_commit_sha, summary = v_summary, details = coalesce(p_details, '{}'::jsonb),
         reported_by = p_reported_by, updated_at = now(), completed_at = now()
   where id = p_result_id;
  perform coord.emit('verification.result', p_reported_by, null, r.changeset_id::text,
                     jsonb_build_object('tier', r.tier, 'status', v_status, 'commit_sha', p_commit_sha));
  perform coord.verification_refresh(r.changeset_id);
  return jsonb_build_object('ok', true, 'duplicate', false, 'changeset', coord.verification_view(r.changeset_id));
end;
$$;
comment on function coord.verification_record(uuid, boolean, text, text, jsonb, text) is
  'Records an executor''s result for one tier (first result wins; later ones are duplicates). A pass counts only for '
  'the changeset''s own commit; tier 4 is refused here (only coord.verification_review completes it).';

create function coord.verification_workflow_run(p_repo text, p_head_sha text, p_run_id bigint, p_conclusion text, p_url text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_rid uuid;
begin
  select r.id into v_rid
    from coord.verification_results r join coord.changesets c on c.id = r.changeset_id
   where c.repo = p_repo and c.commit_sha = p_head_sha and r.tier = 1 and r.status in ('pending', 'running');
  if v_rid is null then
    return jsonb_build_object('ok', true, 'matched', false);
  end if;
  return coord.verification_record(v_rid, p_conclusion = 'success', p_head_sha,
                                   format('GitHub Actions run %s: %s', p_run_id, p_conclusion),
                                   jsonb_build_object('run_id', p_run_id, 'conclusion', p_conclusion, 'url', p_url),
                                   'github_actions') || jsonb_build_object('matched', true);
end;
$$;
comment on function coord.verification_workflow_run(text, text, bigint, text, text) is
  'Applies a completed workflow_run to the tier-1 result of the changeset with that repository and head sha.';

create function coord.verification_review(p_changeset_id uuid, p_approve boolean, p_note text, p_reviewer text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  r coord.verification_results;
  c coord.changesets;
begin
  select * into r from coord.verification_results where changeset_id = p_changeset_id and tier = 4 for update;
  if not found then
    return jsonb_build_object('ok', false, 'code', case when exists (select 1 from coord.changesets where id = p_changeset_id)
                                                        then 'not_manual' else 'not_found' end);
  end if;
  if r.status <> 'awaiting_approval' then
    return jsonb_build_object('ok', false, 'code', 'already_reviewed', 'status', r.status, 'reported_by', r.reported_by);
  end if;
  select * into c from coord.changesets where id = p_changeset_id;
  update coord.verification_results
     set status = case when p_approve then 'passed' else 'rejected' end, commit_sha = c.commit_sha,
         summary = left(format('%s by %s: %s', case when p_approve then 'approved' else 'rejected' end, p_reviewer, coalesce(p_note, '')), 2000),
         details = jsonb_build_object('note', p_note, 'reviewer', p_reviewer),
         reported_by = p_reviewer, updated_at = now(), completed_at = now()
   where id = r.id;
  perform coord.emit(case when p_approve then 'verification.approved' else 'verification.rejected_by_review' end,
                     p_reviewer, null, p_changeset_id::text, jsonb_build_object('repo', c.repo, 'commit_sha', c.commit_sha));
  perform coord.verification_refresh(p_changeset_id);
  return jsonb_build_object('ok', true, 'changeset', coord.verification_view(p_changeset_id));
end;
$$;
comment on function coord.verification_review(uuid, boolean, text, text) is
  'Approves or rejects the tier-4 (manual) step of a changeset, once, with a note. The caller must have checked the '
  'reviewer is an admin or an approving GitHub user; this is the only way a tier-4 result completes.';

create function coord.verification_rerun(p_repo text, p_commit_sha text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_n int;
begin
  select id into v_id from coord.changesets where repo = p_repo and commit_sha = p_commit_sha;
  if v_id is null then
    return jsonb_build_object('ok', false, 'code', 'not_found');
  end if;
  -- Only GitHub Actions can be re-run from GitHub; queue and sandbox results stand as reported.
  update coord.verification_results
     set status = 'pending', summary = 're-run requested', completed_at = null, updated_at = now()
   where changeset_id = v_id and tier = 1 and executor = 'github_actions' and status = 'failed';
  get diagnostics v_n = row_count;
  if v_n > 0 then
    perform coord.emit('verification.rerun', null, null, v_id::text, jsonb_build_object('tier', 1));
    perform coord.verification_refresh(v_id);
  end if;
  return jsonb_build_object('ok', true, 'reset', v_n, 'changeset', coord.verification_view(v_id));
end;
$$;
comment on function coord.verification_rerun(text, text) is
  'GitHub asked to re-run the check of a commit: a failed tier-1 (GitHub Actions) result goes back to pending so it can be dispatched again.';

create function coord.verification_status(p_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coord.verification_view(p_id) $$;
comment on function coord.verification_status(uuid) is 'A changeset with its decision and per-tier results, or null.';

create function coord.verification_find(p_repo text, p_commit_sha text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coord.verification_view(id) from coord.changesets where repo = p_repo and commit_sha = p_commit_sha $$;
comment on function coord.verification_find(text, text) is 'The changeset of a repository commit, or null.';

create function coord.verification_approvals(p_limit int)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object('approvals', coalesce(jsonb_agg(x.v order by x.created_at), '[]'::jsonb))
  from (select r.created_at, jsonb_build_object('changeset_id', c.id, 'repo', c.repo, 'branch', c.branch,
                 'commit_sha', c.commit_sha, 'agent_id', c.agent_id, 'waiting_since', r.created_at,
                 'matches', c.decision->'matches') as v
          from coord.verification_results r join coord.changesets c on c.id = r.changeset_id
         where r.status = 'awaiting_approval'
         order by r.created_at limit least(greatest(p_limit, 1), 200)) x
$$;
comment on function coord.verification_approvals(int) is 'The approval queue: tier-4 changesets waiting for a review, oldest first (bounded).';

create function coord.verification_check_claim(p_changeset_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_granted boolean;
begin
  -- Many hosts (edge isolates) may sync one commit at once: only the claimant creates its check run. A claim left by a
  -- host that died is taken over after a minute.
  update coord.changesets set check_claimed_at = now()
   where id = p_changeset_id and check_run_id is null
     and (check_claimed_at is null or check_claimed_at < now() - interval '1 minute');
  v_granted := found;
  return jsonb_build_object('create', v_granted);
end;
$$;
comment on function coord.verification_check_claim(uuid) is
  'Claims the right to create a changeset''s GitHub check run (one creator across hosts); create=false: another host is creating it.';

create function coord.verification_check_synced(p_changeset_id uuid, p_check_run_id bigint, p_version int)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  c coord.changesets;
begin
  update coord.changesets
     set check_run_id = coalesce(check_run_id, p_check_run_id),
         check_synced_version = greatest(check_synced_version, p_version)
   where id = p_changeset_id
  returning * into c;
  -- Its own channel (coord_checkrun): announcing it on coord_verification would wake the check-run syncer again.
  perform coord.emit('checkrun.synced', null, null, p_changeset_id::text,
                     jsonb_build_object('check_run_id', c.check_run_id, 'version', c.check_synced_version));
  return jsonb_build_object('check_run_id', c.check_run_id, 'synced_version', c.check_synced_version);
end;
$$;
comment on function coord.verification_check_synced(uuid, bigint, int) is
  'Records the GitHub check run of a changeset and the changeset version it now shows (never moves backwards).';

create function coord.verification_unsynced(p_limit int)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(jsonb_agg(id), '[]'::jsonb)
  from (select id from coord.changesets where check_synced_version < version order by updated_at limit least(greatest(p_limit, 1), 100)) x
$$;
comment on function coord.verification_unsynced(int) is 'Changesets whose GitHub check run is behind their state (bounded).';

create function coord.webhook_receive(p_source text, p_delivery_id text, p_event text, p_action text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  d coord.webhook_deliveries;
begin
  insert into coord.webhook_deliveries (source, delivery_id, event, action)
  values (p_source, p_delivery_id, p_event, p_action)
  on conflict (source, delivery_id) do update
    -- A redelivery is processed again only when the first attempt failed, or stalled (a crash mid-processing).
    set attempts = coord.webhook_deliveries.attempts + 1,
        state = 'received',
        received_at = now()
    where coord.webhook_deliveries.state = 'failed'
       or (coord.webhook_deliveries.state = 'received' and coord.webhook_deliveries.received_at < now() - interval '5 minutes')
  returning * into d;
  if not found then
    select * into d from coord.webhook_deliveries where source = p_source and delivery_id = p_delivery_id;
    return jsonb_build_object('process', false, 'state', d.state, 'attempts', d.attempts);
  end if;
  perform coord.emit('webhook.received', null, null, p_source || ':' || p_delivery_id,
                     jsonb_build_object('event', p_event, 'action', p_action, 'attempt', d.attempts));
  return jsonb_build_object('process', true, 'state', d.state, 'attempts', d.attempts);
end;
$$;
comment on function coord.webhook_receive(text, text, text, text) is
  'Stores a verified delivery. process=true when the caller should process it now (new, or a redelivery of a failed '
  'or stalled one); false for a duplicate of one processed or in progress.';

create function coord.webhook_finish(p_source text, p_delivery_id text, p_ok boolean, p_error text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  update coord.webhook_deliveries
     set state = case when p_ok then 'processed' else 'failed' end, error = left(p_error, 1000), processed_at = now()
   where source = p_source and delivery_id = p_delivery_id;
  perform coord.emit(case when p_ok then 'webhook.processed' else 'webhook.failed' end, null, null,
                     p_source || ':' || p_delivery_id, jsonb_build_object('error', left(p_error, 200)));
  return jsonb_build_object('state', case when p_ok then 'processed' else 'failed' end);
end;
$$;
comment on function coord.webhook_finish(text, text, boolean, text) is 'Marks a delivery processed or failed (with a short error, never secrets).';

create function coord.verification_trust(p_agent_id text)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coord.verification_trust_of(p_agent_id) $$;
comment on function coord.verification_trust(text) is 'An agent''s current (decayed) trust score and tier adjustment.';

-- ---------------------------------------------------------------------------------------------------------------
-- Work-queue bridge: a verify:* task reaching a terminal state is that tier's result.
-- ---------------------------------------------------------------------------------------------------------------

create function coord.verification_task_finished()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_rid uuid;
begin
  begin
    v_rid := (new.input_data->>'result_id')::uuid;
  exception when others then
    return null;
  end;
  if v_rid is null then
    return null;
  end if;
  if new.status = 'completed' then
    perform coord.verification_record(v_rid, coalesce((new.result->>'passed')::boolean, false), new.result->>'commit_sha',
                                      coalesce(new.result->>'summary', 'runner reported'), coalesce(new.result, '{}'::jsonb),
                                      coalesce(old.claimed_by, 'runner'));
  else
    perform coord.verification_record(v_rid, false, new.input_data->>'commit_sha',
                                      format('task %s: %s', new.status, coalesce(new.error_message, 'no message')),
                                      jsonb_build_object('task_status', new.status), coalesce(old.claimed_by, 'work-queue'));
  end if;
  return null;
end;
$$;
comment on function coord.verification_task_finished() is
  'Trigger on coord.tasks: when a verify:* task completes, fails or is cancelled, records that tier''s result '
  '(completed with result {"passed": true, "commit_sha": <the changeset''s sha>} is a pass; anything else a failure).';

-- The work queue is its own migration; the bridge attaches only when it is present.
do $$
begin
  if to_regclass('coord.tasks') is not null then
    execute $t$
      create trigger verification_task_finished after update of status on coord.tasks
        for each row
        when (new.task_type like 'verify:%' and new.status in ('completed', 'failed', 'cancelled')
              and old.status is distinct from new.status)
        execute function coord.verification_task_finished()
    $t$;
  end if;
end $$;

-- ---------------------------------------------------------------------------------------------------------------
-- Privileges and row-level security: nothing here is public to the anon key (changesets may name secrets' paths).
-- ---------------------------------------------------------------------------------------------------------------

alter table coord.verification_policies enable row level security;
alter table coord.changesets            enable row level security;
alter table coord.verification_results  enable row level security;
alter table coord.agent_trust           enable row level security;
alter table coord.webhook_deliveries    enable row level security;

revoke execute on function coord.verification_task_finished() from public;
grant all on all tables in schema coord to service_role;
grant execute on all functions in schema coord to service_role;

-- Nothing in coord is executable by PUBLIC or the API roles (see 0001): only through the app's connection.
revoke execute on all functions in schema coord from public, anon, authenticated;
