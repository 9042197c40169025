create function coord.pending_embeddings(p_model text, p_limit int default 100, p_ids bigint[] default null)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_rows jsonb;
begin
  -- Without pgvector there is nowhere to keep a vector: the app then computes none.
  if not coord.memory_has_vector() then
    return jsonb_build_object('vector', false, 'memories', '[]'::jsonb);
  end if;
  -- Rows without a vector, or with one of another provider model (caller-supplied vectors, model null, stay). The
  -- text is the stored one, redacted: no secret leaves for the embedding provider.
  execute $q$
    select coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'text',
             left(concat_ws(E'\n', m.summary, m.name, array_to_string(m.tags, ', '), m.lessons, m.details), 2000))
             order by m.id), '[]'::jsonb)
      from (select * from coord.memories m
             where (m.embedding is null or (m.embedding_model is not null and m.embedding_model <> $1))
               and ($3::bigint[] is null or m.id = any($3))
             order by m.id
             limit least(greatest($2, 1), 1000)) m $q$
    into v_rows using p_model, p_limit, p_ids;
  return jsonb_build_object('vector', true, 'memories', v_rows);
end;
$$;
comment on function coord.pending_embeddings(text, int, bigint[]) is
  'Memories that need an embedding from the app''s provider model p_model (none yet, or another model''s), oldest '
  'first, at most p_limit (or only p_ids): ids and their redacted text, cut to 2000 characters. vector=false where '
  'the database has no pgvector.';
