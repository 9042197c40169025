create function coord.estimate_tokens(p_text text)
returns int
language sql
immutable
set search_path = ''
as $$ select greatest(1, ceil(length(coalesce(p_text, '')) / 4.0)::int) $$;
comment on function coord.estimate_tokens(text) is 'Token estimate for working-memory budgets: about four characters per token.';
