create function coord.submit_changeset(p jsonb)
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
  v_fencing jsonb;
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
    return coord.refusal('lock_lost', jsonb_build_object('lost', v_lost));
  end if;

  -- Trust: raise by one, or lower by at most one, never below the floor of the matched policies.
  v_trust := coord.verification_trust_of(p->>'agent_id');
  -- An unbound submitter could be anyone using that name: no tier lowered for trust it did not earn itself.
  if not coalesce((p->>'agent_bound')::boolean, true) then
    v_trust := v_trust || jsonb_build_object('adjustment', greatest(0, (v_trust->>'adjustment')::int), 'unbound', true);
  end if;
  v_tier := coord.verification_final_tier(v_base, v_floor, (v_trust->>'adjustment')::int);
  v_required := array(select generate_series(0, v_tier));

  insert into coord.changesets (source, repo, branch, commit_sha, agent_id, agent_bound, session_id, task_id, lock_tokens,
                                file_count, files, base_tier, floor_tier, tier, required_tiers, decision,
                                installation_id, pr_number)
  values (p->>'source', p->>'repo', p->>'branch', p->>'commit_sha', p->>'agent_id',
          coalesce((p->>'agent_bound')::boolean, true), p->>'session_id', p->>'task_id',
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
    -- Same commit submitted again (an agent and the push webhook, or a retry): one changeset per commit. Commits
    -- this submission shows that earlier ones did not (the push lists them, the agent did not) add their evidence.
    select id, fencing into v_id, v_fencing from coord.changesets
     where repo = p->>'repo' and commit_sha = p->>'commit_sha' for update;
    if jsonb_array_length(coalesce(p #> '{fencing,commits}', '[]'::jsonb)) > 0 then
      update coord.changesets c set fencing = f.doc
        from (select coord.verification_fencing(v_fencing, p->'fencing', p->>'repo') as doc) f
       where c.id = v_id and f.doc is distinct from v_fencing;
      if found then
        perform coord.verification_refresh(v_id);
      end if;
    end if;
    return coord.verification_view(v_id) || jsonb_build_object('existing', true);
  end if;

  -- Fenced commits: the lock tokens in the commits' trailers, judged against the lock history at commit time. A lost
  -- or forged token is evidence on the changeset (verification_refresh fails it), not a refusal: the commit exists
  -- whatever we answer, and the check run has to say what is wrong with it.
  if jsonb_array_length(coalesce(p #> '{fencing,commits}', '[]'::jsonb)) > 0 then
    update coord.changesets set fencing = coord.verification_fencing(null, p->'fencing', p->>'repo') where id = v_id;
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
        if to_regprocedure('coord.submit_tasks(text,text,jsonb,integer)') is null then
          update coord.verification_results set executor = 'unconfigured',
                 summary = 'the work queue is not installed: no runner can take this tier' where id = v_rid;
        else
          perform coord.touch_agent('verification-gateway', 'gateway', null);
          execute 'select coord.submit_tasks($1, $2, $3, null)' into v_task using 'verification-gateway', null::text,
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
    if found and v_reverted.agent_bound then
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
comment on function coord.submit_changeset(jsonb) is
  'Records a changeset with the routing the app computed (base tier, floor, matched policies), applies the submitter''s '
  'trust, creates one result row per required tier (tier 0 from the inline checks, tiers 2/3 as verify:* tasks on '
  'the work queue, tier 4 awaiting approval) and answers the changeset. A commit already recorded answers its changeset. '
  'p.fencing {skew_seconds, commits} carries the commits'' parsed lock-token trailers: their evidence is recorded (and '
  'merged into an existing changeset''s) by coord.verification_fencing.';
