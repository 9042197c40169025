create function coord.verification_trust_record(p_agent_id text, p_kind text)
returns void
language plpgsql
set search_path = ''
as $$
declare
  t coord.agent_trust;
begin
  insert into coord.agent_trust (agent_id) values (p_agent_id) on conflict (agent_id) do nothing;
  select * into t from coord.agent_trust where agent_id = p_agent_id for update;
  t := coord.verification_decay(t);
  update coord.agent_trust set
    passes      = t.passes + case when p_kind = 'pass' then 1 else 0 end,
    failures    = t.failures + case when p_kind = 'failure' then 1 else 0 end,
    regressions = t.regressions + case when p_kind = 'regression' then 1 else 0 end,
    reverts     = t.reverts + case when p_kind = 'revert' then 1 else 0 end,
    decayed_at  = now()
  where agent_id = p_agent_id;
end;
$$;
comment on function coord.verification_trust_record(text, text) is 'Internal: adds one pass, failure, regression or revert to an agent''s decayed history.';
