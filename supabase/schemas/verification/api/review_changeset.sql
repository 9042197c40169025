create function coord.review_changeset(p_changeset_id uuid, p_approve boolean, p_note text, p_reviewer text)
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
    return coord.refusal(case when exists (select 1 from coord.changesets where id = p_changeset_id)
                              then 'not_manual' else 'not_found' end, jsonb_build_object('changeset_id', p_changeset_id));
  end if;
  if r.status <> 'awaiting_approval' then
    return coord.refusal('already_reviewed', jsonb_build_object('changeset_id', p_changeset_id, 'status', r.status,
                                                        'reported_by', r.reported_by));
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
  return jsonb_build_object('changeset', coord.verification_view(p_changeset_id));
end;
$$;
comment on function coord.review_changeset(uuid, boolean, text, text) is
  'Approves or rejects the tier-4 (manual) step of a changeset, once, with a note. The caller must have checked the '
  'reviewer is an admin or an approving GitHub user; this is the only way a tier-4 result completes.';
