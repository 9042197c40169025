create function coord.get_changeset(p_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coalesce(coord.verification_view(p_id), coord.refusal('not_found', jsonb_build_object('changeset_id', p_id))) $$;
comment on function coord.get_changeset(uuid) is 'A changeset with its decision and per-tier results; refusal not_found when unknown.';
