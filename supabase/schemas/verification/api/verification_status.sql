create function coord.verification_status(p_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$ select coord.verification_view(p_id) $$;
comment on function coord.verification_status(uuid) is 'A changeset with its decision and per-tier results, or null.';
