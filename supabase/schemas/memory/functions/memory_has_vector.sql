create function coord.memory_has_vector()
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (select 1 from pg_catalog.pg_attribute
                  where attrelid = 'coord.memories'::regclass and attname = 'embedding' and not attisdropped)
$$;
comment on function coord.memory_has_vector() is 'Whether this database stores embeddings (pgvector was available at migration time).';
