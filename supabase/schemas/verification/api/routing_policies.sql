create function coord.routing_policies()
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'version', coalesce(md5(string_agg(p.id || ':' || p.updated_at::text || ':' || p.enabled::text, ',' order by p.id)), 'empty'),
    'policies', coalesce(jsonb_agg(jsonb_build_object(
      'id', p.id, 'description', p.description, 'patterns', to_jsonb(p.patterns), 'min_tier', p.min_tier,
      'is_floor', p.is_floor) order by p.id) filter (where p.enabled), '[]'::jsonb))
  from coord.verification_policies p
$$;
comment on function coord.routing_policies() is
  'The enabled routing policies and a version string that changes whenever any policy does (the app caches compiled globs by it).';
