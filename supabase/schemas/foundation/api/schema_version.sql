create function coord.schema_version()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v text;
begin
  -- Our runner records migrations in coord_migrations; `supabase db push` records them in supabase_migrations.
  if to_regclass('coord_migrations.applied') is not null then
    execute 'select max(name) from coord_migrations.applied' into v;
  end if;
  if v is null and to_regclass('supabase_migrations.schema_migrations') is not null then
    execute 'select max(version || ''_'' || coalesce(name, '''')) from supabase_migrations.schema_migrations' into v;
  end if;
  return coalesce(v, 'unknown');
end;
$$;
comment on function coord.schema_version() is 'The newest applied migration, from whichever runner applied them.';
