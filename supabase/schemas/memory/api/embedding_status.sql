create function coord.embedding_status(p_model text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v jsonb;
begin
  if not coord.memory_has_vector() then
    return jsonb_build_object('vector', false);
  end if;
  execute $q$
    select jsonb_build_object('vector', true,
             'embedded', count(*) filter (where embedding is not null and embedding_model is not distinct from $1),
             'pending', count(*) filter (where embedding is null or (embedding_model is not null and embedding_model <> $1)))
      from coord.memories $q$
    into v using p_model;
  return v;
end;
$$;
comment on function coord.embedding_status(text) is
  'Whether the database stores vectors (pgvector), and how many memories have an embedding of model p_model and how '
  'many still wait for one. Part of coordinator://status.';
