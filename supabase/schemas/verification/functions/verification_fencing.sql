create function coord.verification_fencing(p_prior jsonb, p_fencing jsonb, p_repo text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  -- Without Coordinator-Lock-Repo, tokens name the change's repo when locks were taken there, else 'default' (the
  -- rule lock_tokens follows in submit_changeset).
  v_lock_repo text := case when coord.lock_repo_known(p_repo) then p_repo else 'default' end;
  v_skew int := coalesce((p_fencing ->> 'skew_seconds')::int, 0);
  v_commits jsonb;
  v_claims jsonb;
  v_problems jsonb;
  v_checked int;
  v_held int;
  v_prior jsonb := coalesce(p_prior, jsonb_build_object('status', 'none', 'commits', 0, 'fenced', 0, 'tokens', 0,
                                                        'held', 0, 'problems', '[]'::jsonb, 'problems_total', 0,
                                                        'shas', '[]'::jsonb));
  v_status text;
  v_all jsonb;
begin
  -- Commits already judged for this changeset (the push, then the pull request, then an agent's submission of the
  -- same commits) are not judged again: the history answers the same, and counts stay counts of commits.
  select coalesce(jsonb_agg(cm order by ord), '[]'::jsonb) into v_commits
    from (select distinct on (cm ->> 'sha') cm, ord
            from jsonb_array_elements(coalesce(p_fencing -> 'commits', '[]'::jsonb)) with ordinality as t(cm, ord)
           where not (v_prior -> 'shas') ? (cm ->> 'sha')
           order by cm ->> 'sha', ord) d;
  if jsonb_array_length(v_commits) = 0 then
    return p_prior;
  end if;

  -- One claim per (commit, token) whose commit names an agent and a time; the parser reported the others.
  select coalesce(jsonb_agg(jsonb_build_object(
           'i', (cn - 1) * 100000 + tn, 'repo', coalesce(cm ->> 'repo', v_lock_repo), 'path', tk ->> 'path',
           'token', tk ->> 'token', 'agent', cm ->> 'agent', 'at', cm ->> 'committed_at')), '[]'::jsonb)
    into v_claims
    from jsonb_array_elements(v_commits) with ordinality as c(cm, cn)
   cross join lateral jsonb_array_elements(coalesce(cm -> 'tokens', '[]'::jsonb)) with ordinality as t(tk, tn)
   where cm ->> 'agent' is not null and cm ->> 'committed_at' is not null;

  with judged as (
    select * from coord.lock_tokens_live_at(v_claims, v_skew)
  ),
  claimed as (
    select (cl ->> 'i')::int as i, cl from jsonb_array_elements(v_claims) as x(cl)
  ),
  commit_of as (
    select cn, cm from jsonb_array_elements(v_commits) with ordinality as c(cm, cn)
  ),
  token_problems as (
    select j.i, jsonb_strip_nulls(jsonb_build_object(
             'sha', co.cm ->> 'sha', 'committed_at', co.cm ->> 'committed_at', 'path', cl.cl ->> 'path',
             'token', (cl.cl ->> 'token')::bigint, 'status', j.status, 'lock_key', j.lock_key, 'holder', j.holder,
             'acquired_at', j.acquired_at, 'ended', j.ended, 'ended_at', j.ended_at, 'next_holder', j.next_holder,
             'next_token', j.next_token, 'next_at', j.next_at)) as problem
      from judged j
      join claimed cl on cl.i = j.i
      join commit_of co on co.cn = j.i / 100000 + 1
     where j.status <> 'held'
  ),
  parse_problems as (
    select co.cn * 100000 - 1 as i,  -- after the commit's token problems, in the commit's order
           jsonb_build_object('sha', co.cm ->> 'sha') || pr as problem
      from commit_of co
     cross join lateral jsonb_array_elements(coalesce(co.cm -> 'problems', '[]'::jsonb)) as p(pr)
  )
  select coalesce(jsonb_agg(problem order by i), '[]'::jsonb),
         (select count(*) from judged),
         (select count(*) from judged where status = 'held')
    into v_problems, v_checked, v_held
    from (select i, problem from token_problems union all select i, problem from parse_problems) u;

  -- The worst finding decides: a forged or unreadable trailer (invalid) over a lost lock over none.
  v_all := (v_prior -> 'problems') || v_problems;
  v_status := case
    when (v_prior ->> 'status') = 'invalid'
      or exists (select 1 from jsonb_array_elements(v_problems) p
                  where p.value ->> 'status' not in ('lock_lost', 'not_yet_held')) then 'invalid'
    when (v_prior ->> 'status') = 'lock_lost' or jsonb_array_length(v_problems) > 0 then 'lock_lost'
    when (v_prior ->> 'status') = 'held'
      or exists (select 1 from jsonb_array_elements(v_commits) c
                  where jsonb_array_length(coalesce(c.value -> 'tokens', '[]'::jsonb)) > 0) then 'held'
    else 'none'
  end;

  return jsonb_build_object(
    'status', v_status,
    'skew_seconds', v_skew,
    'commits', (v_prior ->> 'commits')::int + jsonb_array_length(v_commits),
    'fenced', (v_prior ->> 'fenced')::int
              + (select count(*) from jsonb_array_elements(v_commits) c
                  where jsonb_array_length(coalesce(c.value -> 'tokens', '[]'::jsonb)) > 0
                     or jsonb_array_length(coalesce(c.value -> 'problems', '[]'::jsonb)) > 0),
    'tokens', (v_prior ->> 'tokens')::int + v_checked,
    'held', (v_prior ->> 'held')::int + v_held,
    -- Bounded: the first 100 findings are kept in full, the total is counted.
    'problems', coalesce((select jsonb_agg(p.value order by p.ord) from jsonb_array_elements(v_all)
                           with ordinality as p(value, ord) where p.ord <= 100), '[]'::jsonb),
    'problems_total', (v_prior ->> 'problems_total')::int + jsonb_array_length(v_problems),
    'shas', (select coalesce(jsonb_agg(s.value), '[]'::jsonb)
               from (select value from jsonb_array_elements(v_prior -> 'shas')
                     union all select c.value -> 'sha' from jsonb_array_elements(v_commits) c
                     limit 5000) s));
end;
$$;
comment on function coord.verification_fencing(jsonb, jsonb, text) is
  'Internal: the fencing evidence of a changeset. Judges the lock tokens of commits the app parsed from their '
  'Coordinator-Lock-* trailers ({skew_seconds, commits:[{sha, committed_at, repo, agent, tokens:[{path, token}], '
  'problems}]}) against the lock history (coord.lock_tokens_live_at) and merges them into the prior evidence, skipping '
  'commits already judged. Answers {status: none|held|lock_lost|invalid, counts, problems (first 100: which commit, '
  'file and token, and why), shas}.';
