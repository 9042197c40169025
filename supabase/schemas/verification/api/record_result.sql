create function coord.record_result(p_result_id uuid, p_passed boolean, p_commit_sha text, p_summary text,
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
    return coord.refusal('result_not_found', jsonb_build_object('result_id', p_result_id));
  end if;
  if r.tier = 4 then
    -- Nothing but a review completes a manual tier.
    return coord.refusal('manual_tier', jsonb_build_object('result_id', p_result_id));
  end if;
  if r.status in ('passed', 'failed') then
    return jsonb_build_object('duplicate', true, 'changeset', coord.verification_view(r.changeset_id));
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
  return jsonb_build_object('duplicate', false, 'changeset', coord.verification_view(r.changeset_id));
end;
$$;
comment on function coord.record_result(uuid, boolean, text, text, jsonb, text) is
  'Records an executor''s result for one tier (first result wins; later ones are duplicates). A pass counts only for '
  'the changeset''s own commit; tier 4 is refused here (only coord.review_changeset completes it).';
