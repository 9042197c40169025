create function coord.refusal(p_code text, p_details jsonb default '{}'::jsonb)
returns jsonb
language sql
immutable
parallel safe
set search_path = ''
as $$ select jsonb_build_object('error', jsonb_build_object('code', p_code) || coalesce(p_details, '{}'::jsonb)) $$;
comment on function coord.refusal(text, jsonb) is
  'The one refusal shape of every API function: {error: {code, …details}}; anything else a function answers is its '
  'result. Details carry the ids the refusal is about (repo, task_id, …), so the app can say what to do next from the '
  'refusal alone: each capability maps its codes to an HTTP status and a message (functions-src/*/refusals.ts).';
