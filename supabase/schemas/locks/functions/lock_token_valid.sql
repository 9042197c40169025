create function coord.lock_token_valid(p_repo text, p_agent_id text, p_key text, p_token bigint)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from coord.locks l
     where l.repo = p_repo and l.agent_id = p_agent_id and l.token = p_token and l.expires_at > clock_timestamp()
       and (l.key = p_key or l.key = any(coord.lock_ancestors(p_key) collate "C")))
$$;
comment on function coord.lock_token_valid(text, text, text, bigint) is
  'Fencing check for other capabilities to call inside their own transactions: true when the agent holds a live '
  'lock with this token on the key or on a scope covering it.';
