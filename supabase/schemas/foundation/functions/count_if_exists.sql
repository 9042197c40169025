create function coord.count_if_exists(p_table text, p_where text)
returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  n bigint;
begin
  if to_regclass(p_table) is null then
    return 0;
  end if;
  execute format('select count(*) from %s where %s', p_table, p_where) into n;
  return n;
end;
$$;
comment on function coord.count_if_exists(text, text) is
  'Counts rows of a capability table that may not exist yet, so status works at every schema version. Internal: '
  'its arguments are constants written in coord.status, never caller input.';
