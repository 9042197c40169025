create function coord.store_embeddings(p_model text, p jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_stored int := 0;
begin
  if not coord.memory_has_vector() then
    return jsonb_build_object('stored', 0, 'vector', false);
  end if;
  -- p: [{id, embedding: [384 numbers]}]; anything else is skipped (the provider answered a wrong width).
  execute $q$
    update coord.memories m
       set embedding = coord.memory_vector_literal(e->'embedding')::extensions.vector, embedding_model = $1
      from jsonb_array_elements($2) e
     where m.id = (e->>'id')::bigint and coord.memory_vector_literal(e->'embedding') is not null $q$
    using p_model, p;
  get diagnostics v_stored = row_count;
  return jsonb_build_object('stored', v_stored, 'vector', true);
end;
$$;
comment on function coord.store_embeddings(text, jsonb) is
  'Stores embeddings the app''s provider (model p_model) computed: p is [{id, embedding}] with 384 numbers each.';
