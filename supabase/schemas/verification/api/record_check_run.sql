create function coord.record_check_run(p_changeset_id uuid, p_check_run_id bigint, p_version int)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  c coord.changesets;
begin
  update coord.changesets
     set check_run_id = coalesce(check_run_id, p_check_run_id),
         check_synced_version = greatest(check_synced_version, p_version)
   where id = p_changeset_id
  returning * into c;
  -- Its own channel (coord_checkrun): announcing it on coord_verification would wake the check-run syncer again.
  perform coord.emit('checkrun.synced', null, null, p_changeset_id::text,
                     jsonb_build_object('check_run_id', c.check_run_id, 'version', c.check_synced_version));
  return jsonb_build_object('check_run_id', c.check_run_id, 'synced_version', c.check_synced_version);
end;
$$;
comment on function coord.record_check_run(uuid, bigint, int) is
  'Records the GitHub check run of a changeset and the changeset version it now shows (never moves backwards).';
