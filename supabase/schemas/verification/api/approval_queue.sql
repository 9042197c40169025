create function coord.approval_queue(p_limit int, p_after jsonb default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_limit int := least(greatest(coalesce(p_limit, 50), 1), 200);
  v_at timestamptz;
  v_id uuid;
  v_rows jsonb;
  v_last jsonb;
  v_more boolean;
begin
  if p_after is not null then
    begin
      v_at := (p_after ->> 0)::timestamptz;
      v_id := (p_after ->> 1)::uuid;
    exception when others then
      v_at := null;
    end;
    if v_at is null or v_id is null then
      return coord.refusal('invalid_cursor');
    end if;
  end if;
  -- Oldest first; keyset paging on (waiting since, result id).
  with page as (
    select r.id as rid, r.created_at, jsonb_build_object('changeset_id', c.id, 'repo', c.repo, 'branch', c.branch,
             'commit_sha', c.commit_sha, 'agent_id', c.agent_id, 'waiting_since', r.created_at,
             'matches', c.decision->'matches') as v,
           row_number() over (order by r.created_at, r.id) as n
      from coord.verification_results r join coord.changesets c on c.id = r.changeset_id
     where r.status = 'awaiting_approval'
       and (p_after is null or (r.created_at, r.id) > (v_at, v_id))
     order by r.created_at, r.id limit v_limit + 1
  )
  select coalesce(jsonb_agg(x.v order by x.n) filter (where x.n <= v_limit), '[]'::jsonb),
         (array_agg(jsonb_build_array(x.created_at, x.rid) order by x.n) filter (where x.n <= v_limit))[v_limit],
         count(*) > v_limit
    into v_rows, v_last, v_more
    from page x;
  return jsonb_build_object('approvals', v_rows, 'next_cursor', case when v_more then v_last end);
end;
$$;
comment on function coord.approval_queue(int, jsonb) is
  'The approval queue: tier-4 changesets waiting for a review, oldest first, at most 200 a page; next_cursor (set '
  'when more follow) goes back as p_after.';
