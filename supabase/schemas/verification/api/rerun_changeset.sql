create function coord.rerun_changeset(p_repo text, p_commit_sha text)
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
    return coord.refusal('not_found', jsonb_build_object('repo', p_repo, 'commit_sha', p_commit_sha));
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
  return jsonb_build_object('reset', v_n, 'changeset', coord.verification_view(v_id));
end;
$$;
comment on function coord.rerun_changeset(text, text) is
  'GitHub asked to re-run the check of a commit: a failed tier-1 (GitHub Actions) result goes back to pending so it can be dispatched again.';
