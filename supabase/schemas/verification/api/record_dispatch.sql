create function coord.record_dispatch(p_result_id uuid, p_external_id text, p_error text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  r coord.verification_results;
begin
  update coord.verification_results
     set status = case when p_error is null then 'running' else 'pending' end,
         external_id = coalesce(p_external_id, external_id),
         summary = coalesce(p_error, summary),
         updated_at = now()
   where id = p_result_id and status in ('pending', 'running')
  returning * into r;
  if found then
    perform coord.emit('verification.dispatched', null, null, r.changeset_id::text,
                       jsonb_build_object('tier', r.tier, 'executor', r.executor, 'external_id', r.external_id, 'ok', p_error is null));
    update coord.changesets set version = version + 1, updated_at = now() where id = r.changeset_id;
  end if;
  return jsonb_build_object('updated', found);
end;
$$;
comment on function coord.record_dispatch(uuid, text, text) is
  'Marks a tier as started by its executor (workflow dispatched, sandbox created) with the executor''s id, or keeps it '
  'pending with the dispatch error as its summary.';
