create function coord.memory_setting(p_key text, p_default float8)
returns float8
language sql
stable
set search_path = ''
as $$ select coalesce((select (value #>> '{}')::float8 from coord.memory_settings where key = p_key), p_default) $$;
comment on function coord.memory_setting(text, float8) is 'A numeric memory setting, or the default when unset.';
