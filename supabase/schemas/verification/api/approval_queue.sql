create function coord.approval_queue(p_limit int)
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
comment on function coord.approval_queue(int) is 'The approval queue: tier-4 changesets waiting for a review, oldest first (bounded).';
