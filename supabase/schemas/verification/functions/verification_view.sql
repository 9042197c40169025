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
    'decision', c.decision, 'fencing', c.fencing - 'shas', 'check_run_id', c.check_run_id, 'pr_number', c.pr_number,
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
