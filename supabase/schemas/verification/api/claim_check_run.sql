create function coord.claim_check_run(p_changeset_id uuid)
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
comment on function coord.claim_check_run(uuid) is
  'Claims the right to create a changeset''s GitHub check run (one creator across hosts); create=false: another host is creating it.';
