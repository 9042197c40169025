create function coord.revoke_api_key(p_key text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  -- Accepts the key id or its prefix, so an operator can revoke without holding the key itself.
  with revoked as (
    update coord.api_keys set revoked_at = now()
     where revoked_at is null and (id::text = p_key or key_prefix = p_key)
    returning id, agent_id
  )
  select array_agg(id) into v_ids from revoked;
  if v_ids is not null then
    perform coord.emit('key.revoked', null, null, array_to_string(v_ids, ','), '{}'::jsonb);
  end if;
  return jsonb_build_object('revoked', coalesce(array_length(v_ids, 1), 0));
end;
$$;
comment on function coord.revoke_api_key(text) is 'Revokes the key(s) with this id or prefix; takes effect on the next request.';
