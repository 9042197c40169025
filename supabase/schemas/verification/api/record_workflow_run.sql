create function coord.record_workflow_run(p_repo text, p_head_sha text, p_run_id bigint, p_conclusion text, p_url text)
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
    return jsonb_build_object('matched', false);
  end if;
  return coord.record_result(v_rid, p_conclusion = 'success', p_head_sha,
                             format('GitHub Actions run %s: %s', p_run_id, p_conclusion),
                             jsonb_build_object('run_id', p_run_id, 'conclusion', p_conclusion, 'url', p_url),
                             'github_actions') || jsonb_build_object('matched', true);
end;
$$;
comment on function coord.record_workflow_run(text, text, bigint, text, text) is
  'Applies a completed workflow_run to the tier-1 result of the changeset with that repository and head sha.';
