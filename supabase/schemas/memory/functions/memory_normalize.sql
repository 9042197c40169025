create function coord.memory_normalize(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$ select btrim(regexp_replace(lower(p_text), '[[:space:]]+', ' ', 'g'), ' .!?;:,') $$;
comment on function coord.memory_normalize(text) is 'The dedup key of a summary: lower case, collapsed whitespace, no trailing punctuation.';
