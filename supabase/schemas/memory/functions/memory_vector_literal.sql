create function coord.memory_vector_literal(p_embedding jsonb)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when jsonb_typeof(p_embedding) = 'array' and jsonb_array_length(p_embedding) = 384
              then '[' || (select string_agg(e, ',') from jsonb_array_elements_text(p_embedding) as e) || ']' end
$$;
comment on function coord.memory_vector_literal(jsonb) is 'A 384-number JSON array as pgvector text input; null for anything else.';
